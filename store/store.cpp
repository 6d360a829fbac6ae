#include "store/store.hpp"

#include "orchestration/codec.hpp"
#include "store/functions.hpp"
#include "store/listing.hpp"

namespace durable::store {

Result<Store> Store::connect(StoreOptions options) {
  auto connection = RedisConnection::connect(options.address, options.timeout);
  if (!connection) return connection.status();
  Store store(std::move(options), std::move(*connection));
  if (Status s = load_functions(store.connection_); !s) return s;
  return store;
}

Status Store::reconnect() {
  if (Status s = connection_.reconnect(); !s) return s;
  return load_functions(connection_);
}

Status Store::check_hub() {
  auto reply = connection_.command("FCALL", "durable_hub_meta", "1", keys().meta(),
                                   std::to_string(options_.partitions),
                                   std::to_string(orchestration::kFormatVersion));
  if (!reply) return reply.status();
  auto recorded = as_integer(**reply);
  if (!recorded) return recorded.status();
  if (static_cast<uint32_t>(*recorded) != options_.partitions) {
    return Status::failed_precondition(
        "hub '" + keys().hub() + "' was created with " + std::to_string(*recorded) +
        " partitions; this node is configured for " + std::to_string(options_.partitions) +
        " (use --partitions " + std::to_string(*recorded) + ", or another hub)");
  }
  // Instances written before the listing index existed (once per hub).
  auto backfilled = backfill_listing(*this);
  return backfilled ? Status::ok() : backfilled.status();
}

Result<ReplyPtr> Store::run(const Argv& argv) {
  const std::vector<std::string_view> views(argv.begin(), argv.end());
  return connection_.command(std::span<const std::string_view>(views));
}

std::vector<Result<ReplyPtr>> Store::run(std::vector<Argv> commands) {
  Pipeline pipe(connection_);
  for (Argv& command : commands) pipe.add(std::move(command));
  return pipe.execute();
}

std::vector<Result<uint64_t>> Store::execute(std::vector<Commit>&& commits) {
  Pipeline pipe(connection_);
  for (Commit& c : commits) pipe.add(std::move(c).argv());
  std::vector<Result<uint64_t>> out;
  out.reserve(commits.size());
  for (auto& reply : pipe.execute()) out.push_back(Commit::parse_reply(reply));
  return out;
}

Result<uint64_t> Store::execute(Commit commit) { return Commit::parse_reply(run(std::move(commit).argv())); }

}  // namespace durable::store
