#include "samples/samples.hpp"

namespace durable::samples {

void register_hello(orchestration::Registry& registry);
void register_order_processing(orchestration::Registry& registry);
void register_fan_out_fan_in(orchestration::Registry& registry);
void register_approval(orchestration::Registry& registry);
void register_monitor(orchestration::Registry& registry);
void register_entity_orchestrations(orchestration::Registry& registry);
void register_flaky_once(orchestration::Registry& registry);
void register_approval_board(orchestration::Registry& registry);
void register_versioned_greeting(orchestration::Registry& registry);

void register_samples(orchestration::Registry& registry) {
  register_hello(registry);
  register_order_processing(registry);
  register_fan_out_fan_in(registry);
  register_approval(registry);
  register_monitor(registry);
  register_entity_orchestrations(registry);
  register_flaky_once(registry);
  register_approval_board(registry);
  register_versioned_greeting(registry);
}

}  // namespace durable::samples
