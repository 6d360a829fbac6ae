// HelloSequence (activity chaining) and HelloParent (sub-orchestration).
#include <stdexcept>

#include "samples/samples.hpp"

namespace durable::samples {
namespace {
using namespace durable::orchestration;
using Cities = std::optional<std::vector<std::string>>;

std::string say_hello(ActivityContext&, std::string city) {
  if (city.empty()) throw std::invalid_argument("SayHello needs a city name, got an empty string");
  return "Hello " + city + "!";
}

Task<std::vector<std::string>> hello_sequence(OrchestrationContext& ctx, Cities cities) {
  std::vector<std::string> greetings;
  for (const auto& city : cities.value_or(std::vector<std::string>{"Tokyo", "Seattle", "London"})) {
    greetings.push_back(co_await ctx.call_activity<std::string>("SayHello", city));
  }
  co_return greetings;
}

// A child failure surfaces here as TaskFailedException; not caught, so it
// fails this instance too, with the child's failure in its details.
Task<std::vector<std::string>> hello_parent(OrchestrationContext& ctx, Cities cities) {
  co_return co_await ctx.call_sub_orchestrator<std::vector<std::string>>("HelloSequence", cities);
}
}  // namespace

void register_hello(Registry& registry) {
  registry.add_activity("SayHello", say_hello);
  registry.add_orchestrator("HelloSequence", hello_sequence);
  registry.add_orchestrator("HelloParent", hello_parent);
}

}  // namespace durable::samples
