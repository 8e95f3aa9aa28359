// The compiled policy blob (.hwp): flat, little-endian, position-independent (offsets and indices
// only, never pointers). Written by the policy compiler, read by the engine after validate_policy.
// Any change to a struct here, or to the hashes in hash.hpp, bumps kPolicyFormatVersion.
#pragma once

#include <bit>
#include <cstdint>

namespace hivewarden::blob {

inline constexpr char kMagic[8] = {'H', 'W', 'P', 'O', 'L', 'I', 'C', 'Y'};
inline constexpr std::uint32_t kPolicyFormatVersion = 6;
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
  kStrings,            // char16_t units
  kNodes,              // Node; node 0 is the root (\REGISTRY's parent), the last a sentinel
  kLiteralEdges,       // LiteralEdge; a node's run in lookup order (see Node)
  kPatternEdges,       // PatternEdge: `*`, `*{N}`, `**`, name globs
  kKeyClients,         // ClientRule of key operations
  kValues,             // ValuePattern
  kValueClients,       // ClientRule of value operations
  kClients,            // Client
  kEntries,            // Entry: where a rule came from, for explanations
  kHardenedKeys,       // Range into kHardenedParts
  kHardenedParts,      // StrRef of folded components
  kProcesses,          // ProcessRule, in policy order (first match wins)
  kSubtreeRules,       // Rules per node: the OR of every rule at the node and below it
  kConditionGroups,    // Range into kConditionTests: tests that must all hold (SPEC §10)
  kConditionTests,     // ConditionTest
  kConditionOperands,  // ConditionOperand
  kAttachments,        // Attachment: key clients and values of the nodes that have any
  kEdgeSlots,          // u32: the open-addressing tables of wide nodes (edge index or kNoIndex)
  kEdgeDisplays,       // u32 per literal edge: offset of its name as first written (cold)
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

// The hot records are 16 bytes, four to a cache line: a path component costs the node, its edge
// (and for a wide node a table slot), and the name compare after a hash hit.
//
// Node n's literal edges are [n.literal_first, node n+1's literal_first), its pattern edges
// likewise (the sentinel node after the last closes both runs). A node with fewer than
// kEdgeTableMin literal edges is scanned: its run is sorted by (hash, hash_high, folded name).
// A wider one has an open-addressing table at edge_table in kEdgeSlots (edge_table_slots of its
// edge count); its run is in table order.
struct Node {
  std::uint32_t literal_first;
  std::uint32_t pattern_first;
  std::uint32_t edge_table;  // first slot in kEdgeSlots, or kNoIndex when scanned
  std::uint32_t attachment;  // index into kAttachments, or kNoIndex (most nodes)
};

// Wide nodes: the table has a power of two home slots, at least twice the edges, plus one
// overflow slot per edge (probes run forward, never wrap). An edge's home is hash & (homes - 1);
// the edges sit in order of home (then hash, hash_high, name), each at its home or just after
// the edge before it, so a lookup probes from its home until an empty slot or a later home.
inline constexpr std::uint32_t kEdgeTableMin = 16;

constexpr std::uint64_t edge_table_homes(std::uint32_t edges) {
  return edges < 2 ? 2 : std::bit_ceil(2ull * edges);
}
constexpr std::uint64_t edge_table_slots(std::uint32_t edges) {
  return edge_table_homes(edges) + edges;
}

struct Attachment {
  Range key_clients;
  Range values;
};

struct LiteralEdge {
  std::uint32_t hash;       // bits 0..31 of component_hash(folded name)
  std::uint32_t child;      // node index, always greater than the parent's
  std::uint32_t folded;     // offset of the folded name in kStrings
  std::uint16_t length;     // of the name, in units (1..kMaxComponentUnits)
  std::uint16_t hash_high;  // bits 32..47 of the hash: a second check before the name compare
};

enum PatternKind : std::uint32_t {
  kAnyOne = 1,   // `*`: exactly one component
  kAnyN = 2,     // `*{N}`: exactly N components
  kAnyDeep = 3,  // `**`: zero or more components
  kGlob = 4,     // a name with `*` / `?` in it: one component
};

// A node's pattern edges are in order of kind, so its globs end the run; the globs are in order of
// their literal prefix (the folded units before the first `*` or `?`, compared as u16 units), so
// that a component needs to try only the globs whose prefix it starts with (a binary search per
// prefix length, not every glob: the bench's million-entry policy has 5,000 globs at one key).
struct PatternEdge {
  std::uint32_t kind;    // PatternKind
  std::uint32_t count;   // N for kAnyN, else 1 (0 for kAnyDeep)
  StrRef folded;         // the glob, for kGlob
  std::uint32_t child;   // node index, always greater than the parent's
  std::uint32_t prefix;  // kGlob: glob_literal_prefix(folded) units; 0 for the other kinds
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
  // Conditions (SPEC §10), runs of kConditionGroups. The entry applies when `when` is empty or
  // one of its groups holds, and none of the `unless` groups holds.
  Range when;
  Range unless;
};

// What a condition test looks at (SPEC §10).
enum ConditionField : std::uint32_t {
  kFieldImage = 1,            // the process's image path
  kFieldKey = 2,              // the key, kernel form
  kFieldTargetObject = 3,     // the key as Sysmon's TargetObject, `\`value for value operations
  kFieldValue = 4,            // the value name
  kFieldNewName = 5,          // rename-key's new name
  kFieldUser = 6,             // the SID of the key's user hive
  kFieldData = 7,             // set-value's new data
  kFieldDetails = 8,          // that data as Sysmon renders Details
  kFieldNewTargetObject = 9,  // rename-key's new key as Sysmon's NewName (TargetObject form)
};
inline constexpr std::uint32_t kFieldLast = kFieldNewTargetObject;

// How a test compares. Text compares fold case (ASCII only for image, data and details: there a
// look-alike letter names another file); operands are stored folded that way.
enum ConditionMatch : std::uint32_t {
  kMatchEqual = 1,  // the whole text, literally
  kMatchGlob = 2,   // the whole text, `*` any run and `?` one unit
  kMatchContains = 3,
  kMatchStartsWith = 4,
  kMatchEndsWith = 5,
  kMatchNumberEqual = 6,  // data: the number (dword / qword)
  kMatchLess = 7,         // data or details: the number is below the operand
  kMatchGreater = 8,
  kMatchType = 9,  // data: the value type is the operand's number
};
inline constexpr std::uint32_t kMatchLast = kMatchType;

inline constexpr std::uint32_t kTestAll = 0x1;    // every operand must hold (else any one)
inline constexpr std::uint32_t kTestDword = 0x2;  // numbers: only REG_DWORD data
inline constexpr std::uint32_t kTestQword = 0x4;  // numbers: only REG_QWORD data
inline constexpr std::uint32_t kTestFlags = kTestAll | kTestDword | kTestQword;

struct ConditionTest {
  std::uint32_t field;  // ConditionField
  std::uint32_t match;  // ConditionMatch
  std::uint32_t flags;  // kTest*
  std::uint32_t reserved;
  Range operands;  // into kConditionOperands, at least one
};

struct ConditionOperand {
  StrRef text;           // folded, for text matches (empty for numbers)
  std::uint64_t number;  // for number matches and kMatchType
};

struct ProcessRule {
  StrRef image;  // folded glob
  StrRef display;
  std::uint32_t flags;
  std::uint32_t rules;
};

}  // namespace hivewarden::blob
