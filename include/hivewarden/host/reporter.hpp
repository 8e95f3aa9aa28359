// Where the host's engine filter sends the records it drafts (SPEC §4.6-4.7, §7): an interface,
// so that the host knows nothing of sockets or consumers (the socket producer's Notifier
// implements it).
#pragma once

#include <cstdint>

#include "hivewarden/core/decision.hpp"
#include "hivewarden/core/report.hpp"

namespace hivewarden::host {

class Reporter {
 public:
  virtual ~Reporter() = default;

  // Whether a record of `mode` would go anywhere now. Asked before a record is drafted, so that
  // nothing is drafted or encoded while nobody listens; a reporter counts what it declines here.
  virtual bool accepts(NotifyMode mode) = 0;

  // Numbers the draft (draft.input.sequence: the sender numbers its records) and sends it. A
  // sync record may wait for the consumer. Returns the record's sequence, 0 when none was sent.
  virtual std::uint64_t send(RecordDraft& draft) = 0;
};

}  // namespace hivewarden::host
