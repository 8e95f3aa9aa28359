// Canonicalisation reads names four UTF-16 units at a time and folds ASCII words without the fold
// table (src/core/key_path.cpp). Its results must be the table's, unit for unit, and its component
// hashes those of component_hash over the table-folded text: for every UTF-16 unit at every
// position of a word, and for random names mixing ASCII, non-ASCII, NUL and `\` at every
// alignment and length 0..70, against a plain reference written here.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "hivewarden/core/case_fold.hpp"
#include "hivewarden/core/hash.hpp"
#include "hivewarden/core/key_path.hpp"

namespace hivewarden {
namespace {

// The fold straight from the generated table, ASCII included (page 0 holds a-z too).
char16_t table_fold(char16_t unit) {
  const unsigned short delta =
      detail::kFoldDeltaPages[detail::kFoldPageIndex[unit >> 8]][unit & 0xFF];
  return static_cast<char16_t>(unit + delta);
}

// The component hash one unit at a time (ComponentHasher::add_unit): what the policy compiler
// stores and the validator checks.
std::uint64_t reference_hash(std::u16string_view folded) {
  ComponentHasher h;
  for (char16_t unit : folded) h.add_unit(unit);
  return h.finish();
}

struct Reference {
  bool ok = true;
  std::vector<std::u16string> display, folded;
};

// The components of `rest` (the text after the root key), one unit at a time: SPEC §6's rules.
Reference reference_components(std::u16string_view rest, bool allow_nul) {
  Reference r;
  if (!rest.empty() && rest.back() == u'\\') rest.remove_suffix(1);
  std::u16string name;
  for (std::size_t i = 0; i <= rest.size(); ++i) {
    if (i < rest.size() && rest[i] != u'\\') {
      name += rest[i];
      continue;
    }
    if (name.empty() || name.size() > kMaxComponentUnits) r.ok = false;
    if (!allow_nul && name.find(u'\0') != std::u16string::npos) r.ok = false;
    std::u16string folded = name;
    for (char16_t& unit : folded) unit = table_fold(unit);
    r.display.push_back(name);
    r.folded.push_back(folded);
    name.clear();
  }
  return r;
}

// Checks the canonical `path` against the reference, its components after the first `skip`.
void expect_components(const KeyPath& path, std::uint32_t skip, const Reference& ref,
                       const std::string& what) {
  ASSERT_EQ(path.count, skip + ref.folded.size()) << what;
  for (std::uint32_t i = 0; i < ref.folded.size(); ++i) {
    ASSERT_EQ(path.display_component(skip + i), ref.display[i]) << what << " component " << i;
    ASSERT_EQ(path.components[skip + i].hash, reference_hash(ref.folded[i]))
        << what << " component " << i;
    ASSERT_EQ(path.components[skip + i].hash, component_hash(ref.folded[i]))
        << what << " component " << i;
  }
}

std::string describe(std::u16string_view s) {
  std::string out;
  char b[8];
  for (char16_t unit : s) {
    std::snprintf(b, sizeof b, "%04X ", static_cast<unsigned>(unit));
    out += b;
  }
  return out;
}

TEST(CanonicalWords, EveryUnitAtEveryPositionFoldsAndHashesAsTheTable) {
  auto path = std::make_unique<KeyPath>();
  // Nine units: two words and a unit after them; the unit under test at each position in turn.
  for (std::uint32_t u = 0; u <= 0xFFFF; ++u) {
    const auto unit = static_cast<char16_t>(u);
    for (std::size_t at = 0; at < 9; ++at) {
      std::u16string name = u"aZ09_-.zA";
      name[at] = unit;
      for (const bool allow_nul : {false, true}) {
        ASSERT_EQ(canonicalize_key(u"\\REGISTRY\\MACHINE", {}, *path), PathStatus::kOk);
        const PathStatus status = append_component(*path, name, allow_nul);
        const Reference ref = reference_components(name, allow_nul);
        const bool expect_ok = unit != u'\\' && (unit != 0 || allow_nul);
        ASSERT_EQ(status == PathStatus::kOk, expect_ok) << std::hex << u << " at " << at;
        if (expect_ok) {
          ASSERT_TRUE(ref.ok);
          expect_components(*path, 2, ref, describe(name));
        } else {
          ASSERT_EQ(path->count, 2u) << std::hex << u;  // nothing appended
          ASSERT_EQ(path->length, 17u) << std::hex << u;
        }
      }
    }
  }
}

TEST(CanonicalWords, RandomNamesAtEveryAlignmentAndLength) {
  // Mostly ASCII (both cases, digits, punctuation), some units the table folds or keeps, NUL and
  // `\`.
  std::u16string alphabet =
      u"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-.{}@`[]^~\x7F"
      u"\u00E4\u00C4\u00DF\u00FF\u0130\u0131\u017F\u03B1\u0436\u212A\uFF41\uFFFF";
  for (const char16_t lone_surrogate : {char16_t{0xD800}, char16_t{0xDC00}, char16_t{0xDFFF}})
    alphabet += lone_surrogate;
  std::mt19937 rng(14);
  std::uniform_int_distribution<int> kind(0, 99);
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  auto path = std::make_unique<KeyPath>();
  std::u16string buffer;
  int checked = 0;
  for (std::size_t length = 0; length <= 70; ++length) {
    for (std::size_t align = 0; align < 4; ++align) {
      for (int trial = 0; trial < 40; ++trial) {
        std::u16string name;
        for (std::size_t i = 0; i < length; ++i) {
          const int k = kind(rng);
          name += k < 3 ? u'\\' : k < 5 ? u'\0' : alphabet[pick(rng)];
        }
        // The kernel form takes NUL, the Win32 form does not; the prefix shifts the offset of the
        // name in KeyPath, `align` its address in the input.
        for (const bool kernel : {true, false}) {
          const std::u16string prefix =
              kernel ? u"\\REGISTRY\\USER\\" + std::u16string(1 + trial % 4, u'S') + u"\\"
                     : u"HKU\\" + std::u16string(1 + trial % 4, u's') + u"\\";
          buffer.assign(align, u'#');
          buffer += prefix + name;
          const std::u16string_view input = std::u16string_view(buffer).substr(align);
          const PathStatus status = canonicalize_key(input, {}, *path);
          const std::u16string rest = prefix.substr(kernel ? 15 : 4) + name;
          const Reference ref = reference_components(rest, kernel);
          const std::string what = describe(rest) + (kernel ? "(kernel form)" : "(Win32 form)");
          ASSERT_EQ(status == PathStatus::kOk, ref.ok) << what;
          if (ref.ok) expect_components(*path, 2, ref, what);
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 71 * 4 * 40 * 2);
}

TEST(CanonicalWords, LimitsHoldWhereverAWordEnds) {
  auto path = std::make_unique<KeyPath>();
  for (std::size_t length = 248; length <= 264; ++length) {
    for (const char16_t last : {u'a', u'\u00E4'}) {
      std::u16string name(length, u'b');
      name.back() = last;
      ASSERT_EQ(canonicalize_key(u"\\REGISTRY\\MACHINE", {}, *path), PathStatus::kOk);
      EXPECT_EQ(append_component(*path, name, true) == PathStatus::kOk,
                length <= kMaxComponentUnits)
          << length;
    }
  }
  // The whole path: fill to just below kMaxPathUnits, then names ending before, at and past it.
  for (std::uint32_t room = 0; room < 12; ++room) {
    for (std::uint32_t length = 1; length < 12; ++length) {
      ASSERT_EQ(canonicalize_key(u"\\REGISTRY", {}, *path), PathStatus::kOk);
      while (path->length + 1 + 100 + 2 + room <= kMaxPathUnits)
        ASSERT_EQ(append_component(*path, std::u16string(100, u'x'), false), PathStatus::kOk);
      const std::uint32_t filler = kMaxPathUnits - room - path->length - 1;  // 1 to 101
      ASSERT_EQ(append_component(*path, std::u16string(filler, u'y'), false), PathStatus::kOk);
      ASSERT_EQ(path->length, kMaxPathUnits - room);
      // A new component takes its `\` and `length` units.
      const bool fits = path->length + 1 + length <= kMaxPathUnits;
      EXPECT_EQ(append_component(*path, std::u16string(length, u'z'), false) == PathStatus::kOk,
                fits)
          << room << " " << length;
      if (fits) {
        EXPECT_EQ(path->length, kMaxPathUnits - room + 1 + length);
      }
    }
  }
}

}  // namespace
}  // namespace hivewarden
