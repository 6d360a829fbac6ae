// FanOutFanIn: N activities in parallel, one episode to schedule them all.
#include <stdexcept>

#include "samples/samples.hpp"

namespace durable::samples {
namespace {
using namespace durable::orchestration;

int64_t double_it(ActivityContext&, int64_t i) { return 2 * i; }

// More would pass the default history limit (two events per activity) long before.
constexpr int64_t kMaxCount = 1'000'000;

Task<int64_t> fan_out_fan_in(OrchestrationContext& ctx, int64_t n) {
  if (n < 0 || n > kMaxCount) {
    throw std::invalid_argument("the count must be between 0 and " + std::to_string(kMaxCount) + ", got " +
                                std::to_string(n));
  }
  std::vector<DurableTask<int64_t>> tasks;
  tasks.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) tasks.push_back(ctx.call_activity<int64_t>("Double", i));
  int64_t sum = 0;
  const std::vector<int64_t> values = co_await when_all(tasks);
  for (int64_t v : values) sum += v;
  co_return sum;
}
}  // namespace

void register_fan_out_fan_in(Registry& registry) {
  registry.add_activity("Double", double_it);
  registry.add_orchestrator("FanOutFanIn", fan_out_fan_in);
}

}  // namespace durable::samples
