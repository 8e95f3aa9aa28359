// A text log (JSON or XML) as a stream of records. Scanning for where a record ends is sequential
// and cheap; decoding one record (parsing it) is the costly part, and depends on nothing but the
// record, so read_logs_in_order hands batches of records to several threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "hivewarden/replay/byte_source.hpp"
#include "hivewarden/replay/readers.hpp"

namespace hivewarden::replay {

struct RawRecord {
  std::string text;
  std::uint64_t index = 0;  // the event's number in its file, from 1
  std::uint64_t line = 0;   // the line it starts on
};

class RecordStream {
 public:
  enum class Scan { kRecord, kEnd, kError };
  virtual ~RecordStream() = default;
  // The next record; kError with `error` the whole message (file, line, event, why).
  virtual Scan next(RawRecord& record, std::string& error) = 0;
  // Decodes one record, handing its event (if it is a registry event) to `sink`; false with
  // `error` the whole message. Safe to call from several threads at once.
  virtual bool decode(const RawRecord& record, const EventSink& sink, ReadStats& stats,
                      std::string& error) const = 0;
};

std::unique_ptr<RecordStream> json_records(ByteSource& bytes, const std::string& path);
std::unique_ptr<RecordStream> xml_records(ByteSource& bytes, const std::string& path);
// The stream for a text log read_events opened: XML by its name or first byte, else JSON.
std::unique_ptr<RecordStream> text_records(ByteSource& bytes, const std::string& path);

// Scans every record and decodes those of `part` in turn: the reading of one file, one thread.
inline bool read_records(RecordStream& records, const EventSink& sink, ReadStats& stats,
                         std::string& error, ReadPart part = {}) {
  RawRecord record;
  while (true) {
    switch (records.next(record, error)) {
      case RecordStream::Scan::kEnd:
        return true;
      case RecordStream::Scan::kError:
        return false;
      case RecordStream::Scan::kRecord:
        if (part.owns(record.index) && !records.decode(record, sink, stats, error)) return false;
    }
  }
}

// What an opened log is, told alike by read_events and read_logs_in_order: an EVTX file (its
// "ElfFile" header; read by libevtx, which seeks, so it must be a regular file: else kError with
// `error` saying so) or a text log.
enum class LogKind { kEvtx, kText, kError };
LogKind log_kind(const ByteSource& bytes, const std::string& path, std::string& error);

}  // namespace hivewarden::replay
