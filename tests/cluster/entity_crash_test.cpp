// Entities exactly once across crashes, with real node processes: signals
// from concurrent clients while the node is SIGKILLed and restarted twice
// and every client connection is cut; transfers across a kill.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "client/client.hpp"
#include "store/store.hpp"
#include "orchestration/payload.hpp"
#include "samples/entities.hpp"
#include "tests/support/node_process.hpp"
#include "tests/support/redis_server.hpp"

namespace durable::cluster {
namespace {

using namespace std::chrono_literals;
using client::EntitySignal;
using orchestration::EntityId;
using orchestration::from_payload;
using orchestration::to_payload;

class EntityCrashTest : public durable::testing::RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    options_.address = *store::RedisAddress::parse(server().url());
    options_.hub = "ecrash";
    options_.partitions = 4;
    client_ = connect();
  }
  std::unique_ptr<client::Client> connect() {
    auto c = client::Client::connect(options_);
    EXPECT_TRUE(c) << c.status().to_string();
    return c ? std::move(*c) : nullptr;
  }
  std::vector<std::string> node_args() const {
    return {"--redis", server().url(), "--hub", "ecrash", "--partitions", "4", "--node-id", "n1",
            "--log-level", "warn", "--workers", "2", "--http", "off"};
  }
  // Starts a node and waits until it owns every partition (it has
  // connected), so cutting connections cannot catch it mid-start.
  std::unique_ptr<durable::testing::NodeProcess> start_node() {
    store::Keys keys(options_.hub);
    auto epoch = [&](uint32_t p) -> long long {
      auto e = reply("HGET", keys.lease(p), "epoch");
      return e && e->type == REDIS_REPLY_STRING ? std::stoll(std::string(e->str, e->len)) : 0;
    };
    std::vector<long long> before;
    for (uint32_t p = 0; p < options_.partitions; ++p) before.push_back(epoch(p));
    auto node = std::make_unique<durable::testing::NodeProcess>(node_args());
    EXPECT_TRUE(node->start());
    // A new epoch on every partition: this process holds them all.
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    for (uint32_t p = 0; p < options_.partitions; ++p) {
      while (epoch(p) <= before[p]) {
        if (std::chrono::steady_clock::now() > deadline) {
          ADD_FAILURE() << "the node did not take partition " << p << "\n" << node->log_tail();
          return node;
        }
        std::this_thread::sleep_for(5ms);
      }
    }
    return node;
  }
  // Signals until Redis acknowledges them (or `stop`); a failed attempt is
  // retried with the same request ids, which the entities recognise.
  // Returns the retries.
  static int send_until_acknowledged(client::Client& c, std::span<EntitySignal> batch,
                                     const std::atomic<bool>& stop) {
    int retries = 0;
    while (!c.signal_entities(batch) && !stop) {
      ++retries;
      std::this_thread::sleep_for(5ms);
    }
    return retries;
  }

  client::ClientOptions options_;
  std::unique_ptr<client::Client> client_;
};

TEST_F(EntityCrashTest, SignalsToCountersExactlyOnce_ThroughTwoNodeKillsAndCutConnections) {
  constexpr int kCounters = 1000, kSignals = 100'000, kClients = 4, kBatch = 250;
  auto node = start_node();

  std::atomic<int> sent{0};
  std::atomic<int> retries{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  // A failed assertion returns early: the clients stop and are joined first
  // (a joinable std::thread would abort the whole test binary).
  struct Joiner {
    std::vector<std::thread>& threads;
    std::atomic<bool>& stop;
    ~Joiner() {
      stop = true;
      for (auto& t : threads) {
        if (t.joinable()) t.join();
      }
    }
  } joiner{clients, stop};
  for (int t = 0; t < kClients; ++t) {
    clients.emplace_back([&, t] {
      std::unique_ptr<client::Client> c;
      while (!stop) {  // Redis is busy with the node's start: try again
        auto connected = client::Client::connect(options_);
        if (connected) {
          c = std::move(*connected);
          break;
        }
        std::this_thread::sleep_for(10ms);
      }
      std::vector<EntitySignal> batch;
      // Client t sends signals t, t + kClients, ...: signal i adds 1 + i % 3 to counter i % kCounters.
      for (int i = t; i < kSignals && !stop; i += kClients) {
        batch.push_back({EntityId("Counter", "c" + std::to_string(i % kCounters)), "add", to_payload(int64_t{1 + i % 3}), {}, {}});
        if (batch.size() == kBatch || i + kClients >= kSignals) {
          retries += send_until_acknowledged(*c, batch, stop);
          sent += static_cast<int>(batch.size());
          batch.clear();
        }
      }
    });
  }
  auto wait_sent = [&](int n) {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (sent.load() < n && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  };
  wait_sent(kSignals / 4);
  // Replies lost mid-flight: every client's connection cut (the node's too).
  ASSERT_TRUE(reply("CLIENT", "KILL", "TYPE", "normal"));
  wait_sent(kSignals / 3);
  node->kill();
  // The sum of all counters is what the node applied: frozen while it is
  // down. One pipelined round trip, so the clients barely move meanwhile.
  auto reader = store::Store::connect({options_.address, options_.hub, options_.partitions, 5000ms});
  ASSERT_TRUE(reader);
  auto applied = [&] {
    (void)reader->connection().command("PING");  // notices a connection cut by CLIENT KILL
    if (reader->broken()) {
      EXPECT_TRUE(reader->reconnect());
    }
    store::Pipeline pipe(reader->connection());
    for (int c = 0; c < kCounters; ++c) {
      const std::string id = "@counter@c" + std::to_string(c);
      pipe.add("HGET", reader->keys().entity(reader->partition_of(id), id), "st");
    }
    int64_t sum = 0;
    for (auto& r : pipe.execute()) {
      if (r && (*r)->type == REDIS_REPLY_STRING) sum += from_payload<int64_t>(std::string_view((*r)->str, (*r)->len));
    }
    return sum;
  };
  const int64_t at_first_kill = applied();
  std::printf("first kill after %d signals sent, %lld applied\n", sent.load(), static_cast<long long>(at_first_kill));
  ASSERT_GT(at_first_kill, 0) << "the node had applied nothing: the kill tests nothing\n" << node->log_tail();
  node = start_node();
  wait_sent(kSignals * 2 / 3);
  ASSERT_TRUE(reply("CLIENT", "KILL", "TYPE", "normal"));
  wait_sent(kSignals * 3 / 4);
  // The second kill tests recovery only once the restarted node has applied
  // something (under load, its first batches may still be on their way).
  const auto applying_deadline = std::chrono::steady_clock::now() + 30s;
  while (applied() <= at_first_kill && std::chrono::steady_clock::now() < applying_deadline) {
    std::this_thread::sleep_for(5ms);
  }
  node->kill();
  const int64_t at_second_kill = applied();
  std::printf("second kill after %d signals sent, %lld applied\n", sent.load(), static_cast<long long>(at_second_kill));
  ASSERT_GT(at_second_kill, at_first_kill) << "the restarted node applied nothing\n" << node->log_tail();
  node = start_node();
  for (auto& t : clients) t.join();
  std::printf("%d signals sent, %d batch retries\n", sent.load(), retries.load());

  std::vector<int64_t> expected(kCounters, 0);
  for (int i = 0; i < kSignals; ++i) expected[i % kCounters] += 1 + i % 3;
  auto mismatches = [&] {
    int bad = 0;
    for (int c = 0; c < kCounters; ++c) {
      auto e = client_->get_entity(EntityId("Counter", "c" + std::to_string(c)));
      if (!e || !e->state || from_payload<int64_t>(*e->state) != expected[c]) ++bad;
    }
    return bad;
  };
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (mismatches() > 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(200ms);
  std::this_thread::sleep_for(500ms);  // nothing more trickles in
  for (int c = 0; c < kCounters; ++c) {
    auto e = client_->get_entity(EntityId("Counter", "c" + std::to_string(c)));
    ASSERT_TRUE(e && e->state) << c << "\n" << node->log_tail();
    ASSERT_EQ(from_payload<int64_t>(*e->state), expected[c]) << "counter c" << c << "\n" << node->log_tail();
  }
  EXPECT_TRUE(node->stop()) << node->log_tail();
}

TEST_F(EntityCrashTest, TransfersAcrossANodeKill_TotalUnchanged_NoneTwice) {
  constexpr int kAccounts = 20, kTransfers = 300;
  constexpr int64_t kOpening = 1000;
  auto node = start_node();
  std::vector<EntitySignal> deposits;
  for (int a = 0; a < kAccounts; ++a) deposits.push_back({EntityId("Account", "a" + std::to_string(a)), "deposit", to_payload(kOpening), {}, {}});
  ASSERT_TRUE(client_->signal_entities(deposits));

  std::mt19937 rng(11);
  std::map<std::string, samples::TransferRequest> requests;
  for (int t = 0; t < kTransfers; ++t) {
    const int from = static_cast<int>(rng() % kAccounts);
    const int to = static_cast<int>((from + 1 + rng() % (kAccounts - 1)) % kAccounts);
    samples::TransferRequest r{"a" + std::to_string(from), "a" + std::to_string(to), static_cast<int64_t>(1 + rng() % 200)};
    auto id = client_->start("Transfer", to_payload(r));
    ASSERT_TRUE(id) << id.status().to_string();
    requests[*id] = r;
  }
  // Kill as soon as some transfers have finished: mid-run. (Two round trips
  // a look: the instances not finished are in the partitions' active sets.)
  auto finished = [&] {
    auto active = client_->active_by_status();
    if (!active) return 0;
    uint64_t unfinished = 0;
    for (size_t s = 0; s < active->size(); ++s) {
      if (!orchestration::is_terminal(static_cast<orchestration::OrchestrationStatus>(s))) unfinished += (*active)[s];
    }
    return kTransfers - static_cast<int>(unfinished);
  };
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (finished() < kTransfers / 10 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  node->kill();
  const int before = finished();
  std::printf("%d of %d transfers finished before the kill\n", before, kTransfers);
  ASSERT_LT(before, kTransfers) << "the kill came too late to test recovery";
  node = start_node();

  std::map<std::string, int64_t> expected;
  for (int a = 0; a < kAccounts; ++a) expected["a" + std::to_string(a)] = kOpening;
  int transferred = 0;
  for (const auto& [id, r] : requests) {
    auto row = client_->wait(id, 120s);
    ASSERT_TRUE(row) << id << ": " << row.status().to_string() << "\n" << node->log_tail();
    auto result = from_payload<samples::TransferResult>(row->output);
    if (!result.transferred) continue;
    ++transferred;
    expected[r.from] -= r.amount;
    expected[r.to] += r.amount;
  }
  std::printf("%d of %d transfers went through\n", transferred, kTransfers);
  // A finished transfer's lock releases are messages to the accounts: an
  // account applies its release a moment after the orchestration ends.
  auto locked = [&] {
    int n = 0;
    for (int a = 0; a < kAccounts; ++a) {
      auto e = client_->get_entity(EntityId("Account", "a" + std::to_string(a)));
      if (!e || e->locked_by) ++n;
    }
    return n;
  };
  const auto unlock_deadline = std::chrono::steady_clock::now() + 30s;
  while (locked() > 0 && std::chrono::steady_clock::now() < unlock_deadline) std::this_thread::sleep_for(20ms);
  int64_t total = 0;
  for (int a = 0; a < kAccounts; ++a) {
    const std::string key = "a" + std::to_string(a);
    auto e = client_->get_entity(EntityId("Account", key));
    ASSERT_TRUE(e && e->state) << key;
    const auto balance = from_payload<samples::Account>(*e->state).balance;
    EXPECT_EQ(balance, expected[key]) << key;
    EXPECT_FALSE(e->locked_by) << key;
    total += balance;
  }
  EXPECT_EQ(total, kAccounts * kOpening);
  EXPECT_TRUE(node->stop()) << node->log_tail();
}

}  // namespace
}  // namespace durable::cluster
