// The Notifier as the host's Reporter: it numbers the drafts it sends (from 1, in send order),
// encodes what the draft says, and encodes nothing while no consumer listens.
#include "hivewarden/producer/notifier.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../support/eventually.hpp"
#include "../support/files.hpp"
#include "hivewarden/consumer/socket_consumer.hpp"

namespace hivewarden {
namespace {

using namespace std::chrono_literals;

RecordDraft async_draft(std::u16string_view key) {
  RecordDraft draft;
  draft.mode = NotifyMode::kAsync;
  draft.input.type = MessageType::kRegistryEventAsync;
  draft.input.operation = traits(Operation::kDeleteKey).pre_class;
  draft.input.key_name = key;
  return draft;
}

TEST(Notifier, WithoutAConsumerNothingIsAcceptedOrEncodedAndEachSkipIsCounted) {
  Notifier none(nullptr, 100ms);
  EXPECT_FALSE(none.accepts(NotifyMode::kAsync));
  EXPECT_FALSE(none.accepts(NotifyMode::kNone));  // nothing to send: not a skip
  RecordDraft draft = async_draft(u"\\REGISTRY\\MACHINE\\X");
  EXPECT_EQ(none.send(draft), 0u);
  EXPECT_EQ(draft.input.sequence, 0u);  // not numbered: not built
  NotifierStats s = none.stats();
  EXPECT_EQ(s.skipped_no_consumer, 2u);
  EXPECT_EQ(s.records, 0u);

  const test::TempDir dir("notifier");
  SocketProducer unheard({(dir / "nobody").string()});  // nobody listens there
  Notifier quiet(&unheard, 100ms);
  EXPECT_FALSE(quiet.accepts(NotifyMode::kSync));
  EXPECT_EQ(quiet.send(draft), 0u);
  s = quiet.stats();
  EXPECT_EQ(s.skipped_no_consumer, 2u);
  EXPECT_EQ(s.records, 0u);
  EXPECT_EQ(unheard.stats().sent, 0u);
  EXPECT_EQ(unheard.stats().dropped_disconnected, 0u);  // never handed a record
}

TEST(Notifier, TheSenderNumbersItsRecordsInSendOrder) {
  const test::TempDir dir("notifier");
  const std::string path = (dir / "s").string();
  std::mutex m;
  std::vector<std::uint64_t> sequences;
  std::vector<std::string> keys;
  SocketConsumer consumer(path, [&](const RecordView& r) {
    std::lock_guard<std::mutex> lock(m);
    sequences.push_back(r.fixed.sequence);
    keys.emplace_back(r.bytes(kFieldKeyName));
    return true;
  });
  std::string error;
  ASSERT_TRUE(consumer.start(error)) << error;
  {
    SocketProducer producer({path});
    ASSERT_TRUE(test::eventually([&] { return producer.connected(); }, 2000ms));
    Notifier notifier(&producer, 100ms);
    ASSERT_TRUE(notifier.accepts(NotifyMode::kAsync));
    const std::u16string names[] = {u"\\A", u"\\B", u"\\C"};
    for (std::uint64_t i = 0; i < 3; ++i) {
      RecordDraft draft = async_draft(names[i]);
      draft.input.sequence = 77;  // whatever the draft says, the sender numbers it
      EXPECT_EQ(notifier.send(draft), i + 1);
      EXPECT_EQ(draft.input.sequence, i + 1);
    }
    RecordDraft nothing = async_draft(u"\\D");
    nothing.mode = NotifyMode::kNone;  // a draft of nothing is not sent, and not numbered
    EXPECT_EQ(notifier.send(nothing), 0u);
    EXPECT_EQ(notifier.stats().records, 3u);
    ASSERT_TRUE(producer.flush(2000ms));
  }
  test::eventually(
      [&] {
        std::lock_guard<std::mutex> lock(m);
        return sequences.size() >= 3;
      },
      2000ms);
  consumer.stop();
  std::lock_guard<std::mutex> lock(m);
  EXPECT_EQ(sequences, (std::vector<std::uint64_t>{1, 2, 3}));
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[1], std::string("\\\0B\0", 4));  // UTF-16LE
}

// Records are encoded in a per-thread buffer of kRecordBufferBytes and copied into recycled queue
// buffers: one larger than both (long value data) still arrives whole, and the small records
// around it, encoded in the same thread buffer, arrive intact and in order.
TEST(Notifier, ARecordLargerThanTheThreadBufferArrivesWholeBetweenSmallOnes) {
  const test::TempDir dir("notifier");
  const std::string path = (dir / "s").string();
  std::mutex m;
  std::vector<std::string> keys, data;
  SocketConsumer consumer(path, [&](const RecordView& r) {
    std::lock_guard<std::mutex> lock(m);
    keys.emplace_back(r.bytes(kFieldKeyName));
    data.emplace_back(r.bytes(kFieldDataAfter));
    return true;
  });
  std::string error;
  ASSERT_TRUE(consumer.start(error)) << error;
  std::string large(3 * kRecordBufferBytes + 5, '\0');
  for (std::size_t i = 0; i < large.size(); ++i) large[i] = static_cast<char>(i * 7);
  {
    SocketProducer producer({path});
    ASSERT_TRUE(test::eventually([&] { return producer.connected(); }, 2000ms));
    Notifier notifier(&producer, 100ms);
    const std::u16string names[] = {u"\\A", u"\\B", u"\\C", u"\\D"};
    for (int i = 0; i < 4; ++i) {
      RecordDraft draft = async_draft(names[i]);
      if (i == 1) {
        draft.input.flags |= record_flag::kHasDataAfter;
        draft.input.data_after = large;
      }
      EXPECT_EQ(notifier.send(draft), static_cast<std::uint64_t>(i + 1));
    }
    ASSERT_TRUE(producer.flush(2000ms));
  }
  test::eventually(
      [&] {
        std::lock_guard<std::mutex> lock(m);
        return keys.size() >= 4;
      },
      2000ms);
  consumer.stop();
  std::lock_guard<std::mutex> lock(m);
  ASSERT_EQ(keys.size(), 4u);
  EXPECT_EQ(keys[0], std::string("\\\0A\0", 4));
  EXPECT_EQ(keys[2], std::string("\\\0C\0", 4));  // the buffer the large record skipped
  EXPECT_EQ(keys[3], std::string("\\\0D\0", 4));
  EXPECT_EQ(data[1], large);
  EXPECT_TRUE(data[0].empty());
  EXPECT_TRUE(data[2].empty());
}

}  // namespace
}  // namespace hivewarden
