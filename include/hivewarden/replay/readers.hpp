// Readers of Sysmon registry events: EVTX files (libevtx), their XML form (wevtutil / evtxexport),
// and JSON (normalized lines, Winlogbeat, evtx_dump, raw Security-Datasets records), plain or gzip.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "hivewarden/replay/byte_source.hpp"
#include "hivewarden/replay/event.hpp"

namespace hivewarden::replay {

struct ReadStats {
  std::uint64_t records = 0;                     // everything read
  std::uint64_t registry = 0;                    // Sysmon 12 / 13 / 14 handed on
  std::map<std::string, std::uint64_t> skipped;  // "Security 4656" -> count
};

// Bounds that keep a damaged or hostile log from costing unbounded memory or time. Past any of them
// the reader stops with an error naming the file, the record and the limit.
inline constexpr std::size_t kMaxRecordBytes = std::size_t{1}
                                               << 20;  // one JSON value or one XML <Event>
inline constexpr int kMaxNesting = 64;                 // JSON objects/arrays, XML elements
// A gzip file is streamed (never held whole) and may expand to at most this many bytes per
// compressed byte; real Sysmon JSON compresses about 44:1.
inline constexpr std::uint64_t kMaxGzipRatio = 64;

using EventSink = std::function<void(RegistryEvent&&)>;

// Sorts a record by its provider and EventID text: true for a Sysmon registry event (12, 13, 14;
// event.event_id set) or a Sysmon event whose EventID is not a number (event.unreadable says so,
// and it is counted as not mapped, never taken for another id); otherwise false, and counted in
// stats.skipped by provider and id.
bool sort_record(const std::string& provider, bool sysmon, const std::string& id_text,
                 RegistryEvent& event, ReadStats& stats);

// Reads one file, telling its kind by name and content (.evtx / ElfFile header, XML, JSON, .gz),
// opening it once (a FIFO or a pipe reads like a file; an EVTX file must be a regular file).
// Every event read before a corruption is handed on; then false with `error` naming the file and
// the record or line.
bool read_events(const std::string& path, const EventSink& sink, ReadStats& stats,
                 std::string& error);

// One part (k of K) of a log, for spreading one large log over K workers: a text log's records are
// numbered by the scanner and go in blocks of kPartRecords; part k decodes (and counts) only the
// blocks b with b % K == k, while every part reads (inflates and scans) the whole text. An EVTX log
// is read whole by part 0 and not at all by the others. The parts' events and counts add up to the
// log's, for a log read whole; a problem is met only by the parts that meet it (a scanning problem
// by every part, a record that does not decode by its own part), so a caller replays a log whose
// parts report a problem whole, to stop where reading in turn stops.
inline constexpr std::uint64_t kPartRecords = 512;
struct ReadPart {
  std::uint32_t index = 0, count = 1;
  bool whole() const { return count <= 1; }
  // Whether the record numbered `record` (from 1) is this part's.
  bool owns(std::uint64_t record) const {
    return whole() || ((record - 1) / kPartRecords) % count == index;
  }
};
bool read_events(const std::string& path, const EventSink& sink, ReadStats& stats,
                 std::string& error, ReadPart part);

bool read_json_events(const std::string& path, const EventSink& sink, ReadStats& stats,
                      std::string& error);
bool read_xml_events(const std::string& path, const EventSink& sink, ReadStats& stats,
                     std::string& error);
bool read_evtx_events(const std::string& path, const EventSink& sink, ReadStats& stats,
                      std::string& error);

// The same from a source read_events opened (its first bytes already read, to tell its kind).
bool read_json_events(ByteSource& bytes, const std::string& path, const EventSink& sink,
                      ReadStats& stats, std::string& error);
bool read_xml_events(ByteSource& bytes, const std::string& path, const EventSink& sink,
                     ReadStats& stats, std::string& error);

// Reads `logs` as read_events would, one after another, on `jobs` threads: `sink` gets every event
// with the number of its log, `on_error` each log's error, on the calling thread and in exactly the
// order, and `stats` exactly the counts, of reading them in turn. A text log (JSON, XML, plain or
// gzip) is scanned for its records on the calling thread and decoded in batches by the others; an
// EVTX file is read whole by one thread. At most kBatchesInFlightPerJob * jobs batches (each of at
// most kBatchRecords records or about kBatchBytes bytes of text, or one EVTX file's events) are
// held between reading and `sink`. Returns how many logs could not be read whole.
inline constexpr std::size_t kBatchRecords = 512, kBatchBytes = std::size_t{1} << 20;
inline constexpr std::size_t kBatchesInFlightPerJob = 4;
inline constexpr unsigned kMaxJobs = 64;
using LogEventSink = std::function<void(std::uint32_t log, RegistryEvent&&)>;
int read_logs_in_order(const std::vector<std::string>& logs, unsigned jobs,
                       const LogEventSink& sink, ReadStats& stats,
                       const std::function<void(const std::string& error)>& on_error);
// The same for one part of each log (see ReadPart).
int read_logs_in_order(const std::vector<std::string>& logs, unsigned jobs,
                       const LogEventSink& sink, ReadStats& stats,
                       const std::function<void(const std::string& error)>& on_error,
                       ReadPart part);

}  // namespace hivewarden::replay
