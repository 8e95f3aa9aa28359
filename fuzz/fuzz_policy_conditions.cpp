// The condition section of a compiled policy (SPEC §10) from user mode: the fuzzer's bytes
// replace the condition groups, tests and operands of a real blob and its entries' when / unless
// runs; the validator either rejects the result, or every decision on it (set-value with data
// from the input too) stays in bounds and ends within kMaxConditionWork.
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "hivewarden/core/decide.hpp"
#include "hivewarden/core/hash.hpp"
#include "hivewarden/core/policy_format.hpp"
#include "hivewarden/policy/compile.hpp"

namespace {

using namespace hivewarden;

const char* const kSeedPolicy = R"(version: 1
monitored:
  - key: 'HKLM\SOFTWARE\A'
    client: one
    rules: [create-key, delete-key, tamper-protection]
    when: [{image|endswith: '\x.exe', key|contains: 'a'}, {target_object|startswith: 'HKLM'}]
    unless: {user: 'S-1-5-18', new_name|contains: ['a', 'b']}
    values:
      - name: '*'
        rules: [set-value, set-value-deny, set-value-capture]
        when: {data|dword|gt: 4, details|contains|all: ['DWORD', '0x'], data|type: dword}
        unless: [{data|contains: 'x*y'}, {value: 'v?'}, {data|qword|lt: 9}]
  - key: 'HKU\*\B'
    client: two
    values:
      - name: 'V'
        rules: [delete-value, delete-deny]
        when: {details: '(Empty)', data|startswith: 'ab', target_object|endswith: '\V'}
)";

std::vector<unsigned char> seed_blob() {
  policy::PolicySource source;
  std::vector<policy::PolicyProblem> problems;
  policy::Blob blob;
  if (!policy::parse_policy_yaml(kSeedPolicy, "seed", source, problems) ||
      !policy::compile_policy(source, blob, problems))
    __builtin_trap();
  return blob;
}

// Decides every operation on a few keys, set-value with the given data as each type.
void decide_all(const PolicyView& view, std::string_view data) {
  static auto scratch = std::make_unique<DecisionScratch>();
  static auto keys = std::make_unique<OperationKeys>();
  const std::u16string_view paths[] = {u"HKLM\\SOFTWARE\\A", u"HKU\\S-1-5-18\\B",
                                       u"HKLM\\SOFTWARE\\Classes\\A"};
  const std::uint32_t types[] = {1, 3, 4, 7, 11};
  for (const std::u16string_view path : paths) {
    for (int op = 0; op < kOperationCount; ++op) {
      for (const std::uint32_t type : types) {
        OperationRequest r;
        r.op = static_cast<Operation>(op);
        r.value = u"V1";
        r.new_name = u"nb";
        r.process.image = u"C:\\A\\X.EXE";
        r.has_data = true;
        r.type = type;
        r.data = data;
        canonicalize_operation(path, {view.control_set(), {}}, *keys, r);
        decide_on(view, r, *scratch);
        if (r.op != Operation::kSetValue) break;
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<unsigned char> seed = seed_blob();
  blob::Header h;
  std::memcpy(&h, seed.data(), sizeof h);
  std::vector<std::uint64_t> aligned(seed.size() / 8 + 1);
  auto* bytes = reinterpret_cast<unsigned char*>(aligned.data());
  std::memcpy(bytes, seed.data(), seed.size());
  // The input: the condition sections (groups, tests, operands: the blob's tail), then the
  // entries' when / unless runs, then set-value's data.
  const std::size_t tail = h.sections[blob::kConditionGroups].offset;
  std::size_t used = std::min(size, seed.size() - tail);
  std::memcpy(bytes + tail, data, used);
  auto* entries = reinterpret_cast<blob::Entry*>(bytes + h.sections[blob::kEntries].offset);
  for (std::uint64_t e = 0; e < h.sections[blob::kEntries].count && used + 16 <= size; ++e) {
    std::memcpy(&entries[e].when, data + used, 16);
    used += 16;
  }
  const std::uint32_t sum = checksum32(bytes + sizeof h, seed.size() - sizeof h);
  std::memcpy(bytes + offsetof(blob::Header, checksum), &sum, sizeof sum);
  PolicyView view;
  PolicyError error;
  if (!validate_policy(bytes, seed.size(), view, error)) return 0;
  decide_all(view, std::string_view(reinterpret_cast<const char*>(data) + used, size - used));
  return 0;
}
