// Event logs from anywhere (EVTX, XML, JSON, gzip): each reader hands on events or stops with an
// error naming the file; it never crashes, hangs or reads out of bounds. The first byte picks the
// reader, the rest is the file.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "hivewarden/replay/readers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace hivewarden::replay;
  if (size < 1) return 0;
  static const std::string path = "/tmp/hw-fuzz-event-" + std::to_string(getpid());
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return 0;
  std::fwrite(data + 1, 1, size - 1, f);
  std::fclose(f);
  ReadStats stats;
  std::string error;
  std::uint64_t handed = 0;
  const EventSink sink = [&](RegistryEvent&& e) {
    ++handed;
    std::string why;
    (void)map_event(e, why);
  };
  bool ok = false;
  switch (data[0] % 4) {
    case 0: ok = read_json_events(path, sink, stats, error); break;
    case 1: ok = read_xml_events(path, sink, stats, error); break;
    case 2: ok = read_evtx_events(path, sink, stats, error); break;
    default: ok = read_events(path, sink, stats, error); break;
  }
  if (!ok && error.find(path) == std::string::npos) std::abort();  // errors name the file
  if (handed != stats.registry) std::abort();
  return 0;
}
