#include "hivewarden/core/notification.hpp"

#include <cstddef>
#include <cstring>

namespace hivewarden {
namespace {

constexpr bool kTextField[kRecordFieldCount] = {true, true, true, true, true, false, false, false};

std::uint64_t align8(std::uint64_t n) {
  return (n + 7) & ~std::uint64_t{7};
}

struct FieldBytes {
  const void* data;
  std::uint64_t length;
};

void gather(const RecordInput& in, FieldBytes (&fields)[kRecordFieldCount]) {
  fields[kFieldKeyName] = {in.key_name.data(), in.key_name.size() * 2};
  fields[kFieldValueName] = {in.value_name.data(), in.value_name.size() * 2};
  fields[kFieldNewKeyName] = {in.new_key_name.data(), in.new_key_name.size() * 2};
  fields[kFieldOldFileName] = {in.old_file_name.data(), in.old_file_name.size() * 2};
  fields[kFieldNewFileName] = {in.new_file_name.data(), in.new_file_name.size() * 2};
  fields[kFieldDataBefore] = {in.data_before.data(), in.data_before.size()};
  fields[kFieldDataAfter] = {in.data_after.data(), in.data_after.size()};
  fields[kFieldHashes] = {in.hashes, std::uint64_t{in.hash_count} * 16};
}

}  // namespace

std::uint64_t record_size(const RecordInput& input) {
  FieldBytes fields[kRecordFieldCount];
  gather(input, fields);
  std::uint64_t size = sizeof(RecordFixed);
  for (const FieldBytes& f : fields) size = align8(size + f.length);
  return size > 0xFFFFFFFFull ? 0 : size;
}

std::uint32_t encode_record(const RecordInput& in, unsigned char* out, std::uint64_t capacity) {
  const std::uint64_t size = record_size(in);
  if (size == 0 || size > capacity || out == nullptr) return 0;
  RecordFixed f{};
  f.magic = kNotificationMagic;
  f.version = kNotificationVersion;
  f.message_type = static_cast<std::uint16_t>(in.type);
  f.size = static_cast<std::uint32_t>(size);
  f.fixed_size = sizeof(RecordFixed);
  f.sequence = in.sequence;
  f.operation = in.operation;
  f.status = in.status;
  f.process_id = in.process_id;
  f.process_creation_time = in.process_creation_time;
  f.thread_id = in.thread_id;
  f.session_id = in.session_id;
  f.final_key_rules = in.final_key_rules;
  f.value_type_before = in.value_type_before;
  f.value_size_before = in.value_size_before;
  f.value_type_after = in.value_type_after;
  f.value_size_after = in.value_size_after;
  f.restore_flags = in.restore_flags;
  f.hash_count = in.hash_count;
  std::memcpy(f.transaction_id, in.transaction_id, sizeof f.transaction_id);
  f.flags = in.flags;

  FieldBytes fields[kRecordFieldCount];
  gather(in, fields);
  std::uint64_t at = sizeof(RecordFixed);
  std::memset(out + at, 0, size - at);
  for (std::uint32_t i = 0; i < kRecordFieldCount; ++i) {
    f.refs[i] = {static_cast<std::uint32_t>(at), static_cast<std::uint32_t>(fields[i].length)};
    if (fields[i].length > 0) std::memcpy(out + at, fields[i].data, fields[i].length);
    at = align8(at + fields[i].length);
  }
  std::memcpy(out, &f, sizeof f);
  return f.size;
}

void set_record_sequence(unsigned char* record, std::uint64_t sequence) {
  std::memcpy(record + offsetof(RecordFixed, sequence), &sequence, sizeof sequence);  // as encoded
}

std::string_view RecordView::bytes(RecordField field) const {
  const RecordRef r = fixed.refs[field];
  return {reinterpret_cast<const char*>(base) + r.offset, r.length};
}

bool decode_record(const unsigned char* data, std::uint64_t size, RecordView& out,
                   RecordError& error) {
  auto fail = [&](const char* what, std::uint64_t offset) {
    error = {what, offset};
    return false;
  };
  if (data == nullptr || size < sizeof(RecordFixed))
    return fail("record shorter than its fixed part", 0);
  RecordFixed f;
  std::memcpy(&f, data, sizeof f);  // the bytes need not be aligned
  if (f.magic != kNotificationMagic)
    return fail("bad magic: not a hivewarden notification", offsetof(RecordFixed, magic));
  if (f.version != kNotificationVersion)
    return fail("unsupported notification version", offsetof(RecordFixed, version));
  if (f.message_type != static_cast<std::uint16_t>(MessageType::kRegistryEventAsync) &&
      f.message_type != static_cast<std::uint16_t>(MessageType::kRegistryEventSync)) {
    return fail("unknown message type", offsetof(RecordFixed, message_type));
  }
  if (f.size != size)
    return fail("record size does not match the bytes given", offsetof(RecordFixed, size));
  if (f.fixed_size < sizeof(RecordFixed) || f.fixed_size > size)
    return fail("bad fixed-part size", offsetof(RecordFixed, fixed_size));
  if ((f.flags & ~0xFu) != 0) return fail("unknown record flags", offsetof(RecordFixed, flags));
  for (std::uint32_t i = 0; i < kRecordFieldCount; ++i) {
    const RecordRef r = f.refs[i];
    const std::uint64_t at = offsetof(RecordFixed, refs) + i * sizeof(RecordRef);
    if (r.offset < f.fixed_size || r.offset > size || r.length > size - r.offset)
      return fail("field outside the record", at);
    if (kTextField[i] && r.length % 2 != 0) return fail("text field of odd length", at);
  }
  if (f.refs[kFieldHashes].length != std::uint64_t{f.hash_count} * 16)
    return fail("hash count does not match the hashes", offsetof(RecordFixed, hash_count));
  out.fixed = f;
  out.base = data;
  return true;
}

}  // namespace hivewarden
