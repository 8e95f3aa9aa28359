// The notification record (SPEC §7): one self-describing little-endian message per reported
// operation, in the spirit of WdFilter's RegOperationMessage. Fixed fields first, then offsets
// into a variable part (names, value data, client hashes). Encoding writes into a caller's
// buffer; decoding any byte string yields a valid view or a clear error, never an out-of-bounds
// read.
#pragma once

#include <cstdint>
#include <string_view>

namespace hivewarden {

inline constexpr std::uint32_t kNotificationMagic = 0x4E525748;  // "HWRN"
inline constexpr std::uint16_t kNotificationVersion = 1;
// On the wire between a producer and a consumer: records of at most kMaxRecordBytes, and the
// acknowledgement of a sync record (kAckMagic, then its sequence).
inline constexpr std::uint32_t kAckMagic = 0x4B415748;  // "HWAK"
inline constexpr std::uint32_t kMaxRecordBytes = 16u << 20;

enum class MessageType : std::uint16_t {
  kRegistryEventAsync = 1,
  kRegistryEventSync = 2,  // the sender waits for the consumer's acknowledgement
};

// Flags of a record.
namespace record_flag {
inline constexpr std::uint32_t kDenied = 0x1;           // sent by a denial, before the operation
inline constexpr std::uint32_t kHasDataBefore = 0x2;    // type and data before were captured
inline constexpr std::uint32_t kHasDataAfter = 0x4;     // type and data after are known
inline constexpr std::uint32_t kHashesTruncated = 0x8;  // more clients matched than are listed
}  // namespace record_flag

// A byte run inside the record: offset from the record's start, length in bytes.
struct RecordRef {
  std::uint32_t offset;
  std::uint32_t length;
};

enum RecordField : std::uint32_t {
  kFieldKeyName,
  kFieldValueName,
  kFieldNewKeyName,
  kFieldOldFileName,
  kFieldNewFileName,
  kFieldDataBefore,
  kFieldDataAfter,
  kFieldHashes,
  kRecordFieldCount,
};

// The fixed part, as it sits at the start of every record (all little-endian).
struct RecordFixed {
  std::uint32_t magic;
  std::uint16_t version;
  std::uint16_t message_type;  // MessageType
  std::uint32_t size;          // the whole record
  std::uint32_t fixed_size;    // sizeof(RecordFixed) of the writer: later versions may grow it
  std::uint64_t sequence;      // per sender, from 1
  std::uint32_t operation;     // the pre-operation's REG_NOTIFY_CLASS
  std::uint32_t status;        // NTSTATUS of the operation (0 success, 0xC0000022 denied)
  std::uint64_t process_id;
  std::uint64_t process_creation_time;
  std::uint64_t thread_id;
  std::uint32_t session_id;
  std::uint32_t final_key_rules;
  std::uint32_t value_type_before;
  std::uint32_t value_size_before;  // bytes of the value before (may exceed what was captured)
  std::uint32_t value_type_after;
  std::uint32_t value_size_after;
  std::uint32_t restore_flags;
  std::uint32_t hash_count;
  unsigned char transaction_id[16];
  std::uint32_t flags;  // record_flag
  std::uint32_t reserved;
  RecordRef refs[kRecordFieldCount];
};
static_assert(sizeof(RecordFixed) == 176);

// What an encoder is given. Strings are UTF-16; data is raw bytes; hashes are 16 bytes each.
struct RecordInput {
  MessageType type = MessageType::kRegistryEventAsync;
  std::uint64_t sequence = 0;
  std::uint32_t operation = 0;
  std::uint32_t status = 0;
  std::uint64_t process_id = 0;
  std::uint64_t process_creation_time = 0;
  std::uint64_t thread_id = 0;
  std::uint32_t session_id = 0;
  std::uint32_t final_key_rules = 0;
  std::uint32_t value_type_before = 0, value_size_before = 0;
  std::uint32_t value_type_after = 0, value_size_after = 0;
  std::uint32_t restore_flags = 0;
  unsigned char transaction_id[16] = {};
  std::uint32_t flags = 0;
  std::u16string_view key_name, value_name, new_key_name, old_file_name, new_file_name;
  std::string_view data_before, data_after;
  const unsigned char* hashes = nullptr;  // hash_count * 16 bytes
  std::uint32_t hash_count = 0;
};

// Bytes needed to encode `input` (0 when it cannot be encoded: over 4 GiB).
std::uint64_t record_size(const RecordInput& input);

// Encodes into `out` (capacity bytes); returns the bytes written, 0 when it does not fit.
std::uint32_t encode_record(const RecordInput& input, unsigned char* out, std::uint64_t capacity);

// Numbers a record encoded earlier (a driver drafts it in the pre-operation and numbers it when
// the post says the operation happened). `record` holds at least sizeof(RecordFixed) bytes.
void set_record_sequence(unsigned char* record, std::uint64_t sequence);

// A decoded record: the fixed fields, and views into the caller's bytes.
struct RecordView {
  RecordFixed fixed;
  const unsigned char* base = nullptr;
  // The raw bytes of a field (strings are UTF-16LE, possibly unaligned: copy before use).
  std::string_view bytes(RecordField field) const;
};

struct RecordError {
  const char* what = "";
  std::uint64_t offset = 0;
};

// Checks and decodes one record that fills `data` exactly. On failure says what and where.
bool decode_record(const unsigned char* data, std::uint64_t size, RecordView& out,
                   RecordError& error);

}  // namespace hivewarden
