// A full operation through the host (resolve, pre-callbacks, the operation, post-callbacks), with
// the engine as a callback and an async record sent to a live consumer, against the same
// operation through an empty callback chain.
#include <benchmark/benchmark.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <thread>

#include "hivewarden/consumer/socket_consumer.hpp"
#include "hivewarden/producer/notifier.hpp"
#include "hivewarden/host/apply.hpp"
#include "hivewarden/host/engine_filter.hpp"
#include "hivewarden/policy/compile.hpp"

namespace {

using namespace hivewarden;

struct Setup {
  host::Registry registry;
  policy::Blob blob;
  Engine engine;
  std::string dir, socket;
  std::unique_ptr<SocketConsumer> consumer;
  std::unique_ptr<SocketProducer> producer;
  std::unique_ptr<Notifier> notifier;
  std::unique_ptr<host::EngineFilter> filter;
  host::CallbackChain empty, with_engine;

  Setup() {
    policy::PolicySource source;
    std::vector<policy::PolicyProblem> problems;
    policy::parse_policy_yaml(policy::builtin_default_policy_yaml(), "default", source, problems);
    policy::compile_policy(source, blob, problems);
    PolicyError error;
    engine.install_policy(blob.data(), blob.size(), error);
    bool c;
    for (const char16_t* k :
         {u"\\REGISTRY\\MACHINE\\SOFTWARE", u"\\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft",
          u"\\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Windows",
          u"\\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion",
          u"\\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run",
          u"\\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Explorer"}) {
      registry.create_key(k, c);
    }
    char d[] = "/tmp/hw-bench-XXXXXX";
    dir = mkdtemp(d);
    socket = dir + "/s";
    consumer = std::make_unique<SocketConsumer>(socket, [](const RecordView&) { return true; });
    std::string e;
    consumer->start(e);
    ProducerConfig config{socket};
    config.queue_capacity = 1 << 16;
    producer = std::make_unique<SocketProducer>(config);
    for (int i = 0; i < 200 && !producer->connected(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    notifier = std::make_unique<Notifier>(producer.get(), std::chrono::milliseconds(100));
    filter = std::make_unique<host::EngineFilter>(engine, notifier.get());
    with_engine.add(328010, filter->callback());
  }
  ~Setup() {
    filter.reset();
    notifier.reset();
    producer.reset();
    consumer->stop();
    rmdir(dir.c_str());
  }
};

Setup& setup() {
  static Setup s;
  return s;
}

// A set-value as a host gives it: the request filled once, its key canonical.
struct SetOp {
  explicit SetOp(const char16_t* key) {
    request.op = Operation::kSetValue;
    request.value = u"Updater";
    request.has_data = true;
    request.type = 1;
    request.data = std::string_view("C\0:\0\\\0x\0\0\0", 10);
    request.process.image = u"C:\\Users\\eve\\dropper.exe";
    request.process.pid = 7001;
    request.thread_id = 1;
    canonicalize_operation(key, {}, *keys, request);
  }
  std::unique_ptr<OperationKeys> keys{new OperationKeys};
  OperationRequest request;
};

// Baseline: the same operation through an empty chain.
void BM_HostSetValue_EmptyChain(benchmark::State& state) {
  Setup& s = setup();
  const SetOp op(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run");
  for (auto _ : state) benchmark::DoNotOptimize(host::apply(s.registry, s.empty, op.request));
}
BENCHMARK(BM_HostSetValue_EmptyChain);

// A watched key: decided, reported after success with the value before and after, sent async.
void BM_HostSetValue_EngineReported(benchmark::State& state) {
  Setup& s = setup();
  const SetOp op(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run");
  for (auto _ : state) benchmark::DoNotOptimize(host::apply(s.registry, s.with_engine, op.request));
  s.producer->flush(std::chrono::milliseconds(5000));
}
BENCHMARK(BM_HostSetValue_EngineReported);

// A key nothing watches: decided (no match), no record.
void BM_HostSetValue_EngineQuiet(benchmark::State& state) {
  Setup& s = setup();
  const SetOp op(u"\\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Explorer");
  for (auto _ : state) benchmark::DoNotOptimize(host::apply(s.registry, s.with_engine, op.request));
}
BENCHMARK(BM_HostSetValue_EngineQuiet);

}  // namespace
