// The compiled policy blob (.hwp): flat, little-endian, position-independent (offsets and indices
// only, never pointers). Written by the policy compiler, read by the engine after validate_policy.
// Any change to a struct here, or to the hashes in hash.hpp, bumps kPolicyFormatVersion.
#pragma once

#include <cstdint>

namespace hivewarden::blob {

inline constexpr char kMagic[8] = {'H', 'W', 'P', 'O', 'L', 'I', 'C', 'Y'};
inline constexpr std::uint32_t kPolicyFormatVersion = 2;
inline constexpr std::uint32_t kNoIndex = 0xFFFFFFFFu;

// A run of UTF-16 units in the string pool.
struct StrRef {
  std::uint32_t offset;
  std::uint32_t length;
};

// A run of records in another section.
struct Range {
  std::uint32_t first;
  std::uint32_t count;
};

enum Section : std::uint32_t {
  kStrings,        // char16_t units
  kNodes,          // Node; node 0 is the root (\REGISTRY's parent)
  kLiteralEdges,   // LiteralEdge, each node's run sorted by (hash, folded name)
  kPatternEdges,   // PatternEdge: `*`, `*{N}`, `**`, name globs
  kKeyClients,     // ClientRule of key operations
  kValues,         // ValuePattern
  kValueClients,   // ClientRule of value operations
  kClients,        // Client
  kEntries,        // Entry: where a rule came from, for explanations
  kHardenedKeys,   // Range into kHardenedParts
  kHardenedParts,  // StrRef of folded components
  kProcesses,      // ProcessRule, in policy order (first match wins)
  kSubtreeRules,   // Rules per node: the OR of every rule at the node and below it
  kSectionCount,
};

struct SectionRef {
  std::uint64_t offset;  // from the start of the blob, 8-byte aligned
  std::uint64_t count;   // records (units for kStrings)
};

inline constexpr std::uint32_t kFlagLegacyHardening = 0x1;

struct Header {
  char magic[8];
  std::uint32_t version;
  std::uint32_t header_size;  // sizeof(Header)
  std::uint64_t total_size;   // the whole blob
  std::uint32_t checksum;     // checksum32 of every byte after the header
  std::uint32_t flags;        // kFlag*
  std::uint32_t control_set;  // CurrentControlSet = ControlSet00N
  std::uint32_t rule_union;   // OR of every rule (SPEC §2 gate); recomputed by the validator
  std::uint32_t max_depth;    // deepest entry, in components
  std::uint32_t reserved;
  SectionRef sections[kSectionCount];
};

struct Node {
  Range literal_edges;
  Range pattern_edges;
  Range key_clients;
  Range values;
};

struct LiteralEdge {
  std::uint64_t hash;  // component_hash(folded name)
  StrRef folded;
  StrRef display;
  std::uint32_t child;  // node index, always greater than the parent's
  std::uint32_t reserved;
};

enum PatternKind : std::uint32_t {
  kAnyOne = 1,   // `*`: exactly one component
  kAnyN = 2,     // `*{N}`: exactly N components
  kAnyDeep = 3,  // `**`: zero or more components
  kGlob = 4,     // a name with `*` / `?` in it: one component
};

struct PatternEdge {
  std::uint32_t kind;   // PatternKind
  std::uint32_t count;  // N for kAnyN, else 1 (0 for kAnyDeep)
  StrRef folded;        // the glob, for kGlob
  std::uint32_t child;  // node index, always greater than the parent's
  std::uint32_t reserved;
};

struct ClientRule {
  std::uint32_t client;  // index into kClients
  std::uint32_t rules;
  std::uint32_t entry;  // index into kEntries
};

struct ValuePattern {
  std::uint64_t hash;  // component_hash(folded) when literal
  StrRef folded;
  std::uint32_t is_glob;
  Range clients;  // into kValueClients
  std::uint32_t reserved;
};

struct Client {
  StrRef name;  // as written in the policy
  unsigned char hash[16];
};

struct Entry {
  StrRef key;          // the key pattern as written
  StrRef value;        // the value pattern, when has_value
  std::uint32_t line;  // in the policy source, 0 when unknown
  std::uint32_t has_value;
};

struct ProcessRule {
  StrRef image;  // folded glob
  StrRef display;
  std::uint32_t flags;
  std::uint32_t rules;
};

}  // namespace hivewarden::blob
