// Logs read on several threads, their events handed on in the order of reading them in turn.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "hivewarden/replay/readers.hpp"
#include "hivewarden/util/ordered_pool.hpp"
#include "record_stream.hpp"

namespace hivewarden::replay {
namespace {

// What one batch of one log came to: its events up to the first damage, their counts, the damage.
struct Batch {
  std::uint32_t log = 0;
  std::vector<RegistryEvent> events;
  ReadStats stats;
  bool failed = false;
  std::string error;
};

void add_stats(ReadStats& into, const ReadStats& from) {
  into.records += from.records;
  into.registry += from.registry;
  for (const auto& [name, count] : from.skipped) into.skipped[name] += count;
}

Batch failure(std::uint32_t log, std::string error) {
  Batch b;
  b.log = log;
  b.failed = true;
  b.error = std::move(error);
  return b;
}

// An open text log, kept alive by the batches of it still being decoded.
struct TextLog {
  ByteSource bytes;
  std::unique_ptr<RecordStream> records;
};

class OrderedReader {
 public:
  OrderedReader(unsigned jobs, const LogEventSink& sink, ReadStats& stats,
                const std::function<void(const std::string&)>& on_error, std::size_t logs,
                ReadPart part)
      : part_(part),
        sink_(sink),
        stats_(stats),
        on_error_(on_error),
        failed_(logs, false),
        pool_(jobs, kBatchesInFlightPerJob * jobs) {}

  void read(std::uint32_t log, const std::string& path) {
    auto text = std::make_shared<TextLog>();
    std::string error;
    if (!text->bytes.open(path, error)) return submit_done(failure(log, std::move(error)));
    switch (log_kind(text->bytes, path, error)) {
      case LogKind::kError:
        return submit_done(failure(log, std::move(error)));
      case LogKind::kEvtx:
        if (part_.index != 0) return;
        return submit([log, path] {
          Batch b;
          b.log = log;
          b.failed = !read_evtx_events(
              path, [&b](RegistryEvent&& e) { b.events.push_back(std::move(e)); }, b.stats,
              b.error);
          return b;
        });
      case LogKind::kText:
        text->records = text_records(text->bytes, path);
        return read_text(log, text);
    }
  }

  // Hands on every batch still in flight; returns how many logs failed.
  int finish() {
    while (!pool_.empty()) hand_on(pool_.take());
    return failures_;
  }

 private:
  // Scans here, decodes on the pool. Stops scanning once an earlier batch of this log failed.
  void read_text(std::uint32_t log, const std::shared_ptr<TextLog>& text) {
    RecordStream& records = *text->records;
    auto batch = std::make_shared<std::vector<RawRecord>>();
    std::size_t bytes = 0;
    RawRecord record;
    std::string error;
    while (!failed_[log]) {
      const RecordStream::Scan scan = records.next(record, error);
      if (scan == RecordStream::Scan::kRecord && !part_.owns(record.index)) continue;
      if (scan == RecordStream::Scan::kRecord) {
        bytes += record.text.size();
        batch->push_back(std::move(record));
        record = RawRecord();
        if (batch->size() < kBatchRecords && bytes < kBatchBytes) continue;
      }
      if (!batch->empty()) submit_decode(log, text, std::move(batch));
      batch = std::make_shared<std::vector<RawRecord>>();
      bytes = 0;
      if (scan == RecordStream::Scan::kEnd) return;
      if (scan == RecordStream::Scan::kError) return submit_done(failure(log, std::move(error)));
    }
  }

  void submit_decode(std::uint32_t log, std::shared_ptr<TextLog> text,
                     std::shared_ptr<std::vector<RawRecord>> batch) {
    submit([log, text = std::move(text), batch = std::move(batch)] {
      const RecordStream& records = *text->records;
      Batch b;
      b.log = log;
      const EventSink add = [&b](RegistryEvent&& e) { b.events.push_back(std::move(e)); };
      for (const RawRecord& r : *batch) {
        if (!records.decode(r, add, b.stats, b.error)) {
          b.failed = true;
          break;
        }
      }
      return b;
    });
  }

  void submit_done(Batch batch) {
    submit([b = std::make_shared<Batch>(std::move(batch))]() mutable { return std::move(*b); });
  }
  void submit(std::function<Batch()> task) {
    while (pool_.full()) hand_on(pool_.take());
    pool_.submit(std::move(task));
  }

  void hand_on(Batch batch) {
    if (failed_[batch.log]) return;  // read in turn, nothing after a log's damage is read
    add_stats(stats_, batch.stats);
    for (RegistryEvent& e : batch.events) sink_(batch.log, std::move(e));
    if (!batch.failed) return;
    failed_[batch.log] = true;
    ++failures_;
    on_error_(batch.error);
  }

  const ReadPart part_;
  const LogEventSink& sink_;
  ReadStats& stats_;
  const std::function<void(const std::string&)>& on_error_;
  std::vector<bool> failed_;
  int failures_ = 0;
  util::OrderedPool<Batch> pool_;
};

}  // namespace

int read_logs_in_order(const std::vector<std::string>& logs, unsigned jobs,
                       const LogEventSink& sink, ReadStats& stats,
                       const std::function<void(const std::string& error)>& on_error) {
  return read_logs_in_order(logs, jobs, sink, stats, on_error, ReadPart{});
}

int read_logs_in_order(const std::vector<std::string>& logs, unsigned jobs,
                       const LogEventSink& sink, ReadStats& stats,
                       const std::function<void(const std::string& error)>& on_error,
                       ReadPart part) {
  if (jobs <= 1) {
    int failures = 0;
    for (std::uint32_t log = 0; log < logs.size(); ++log) {
      std::string error;
      const bool whole = read_events(
          logs[log], [&](RegistryEvent&& e) { sink(log, std::move(e)); }, stats, error, part);
      if (!whole) {
        on_error(error);
        ++failures;
      }
    }
    return failures;
  }
  OrderedReader reader(jobs, sink, stats, on_error, logs.size(), part);
  for (std::uint32_t log = 0; log < logs.size(); ++log) reader.read(log, logs[log]);
  return reader.finish();
}

}  // namespace hivewarden::replay
