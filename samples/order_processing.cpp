// OrderProcessing: validate, charge with retries, confirm.
#include <stdexcept>

#include "samples/samples.hpp"

namespace durable::samples {
namespace {
using namespace durable::orchestration;
using namespace std::chrono_literals;

class PaymentDeclined : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

Validation validate_order(ActivityContext&, Order order) {
  if (order.orderId.empty()) return {false, "orderId is missing"};
  if (!(order.amount > 0)) return {false, "amount must be positive"};
  if (order.email.empty()) return {false, "email is missing"};
  return {true, {}};
}

double charge_customer(ActivityContext&, Order order) {
  if (order.amount > kCardLimit) {
    throw PaymentDeclined("card declined: " + std::to_string(order.amount) +
                          " exceeds the limit of " + std::to_string(kCardLimit));
  }
  return order.amount;
}

std::string send_confirmation(ActivityContext&, Order order) {
  return "confirmation for " + order.orderId + " sent to " + order.email;
}

Task<OrderResult> order_processing(OrchestrationContext& ctx, Order order) {
  const auto validation = co_await ctx.call_activity<Validation>("ValidateOrder", order);
  if (!validation.valid) {
    co_return OrderResult{order.orderId, "rejected", std::nullopt, validation.reason};
  }
  RetryPolicy retry;
  retry.max_attempts = 3;
  retry.first_interval = 5s;
  retry.backoff_coefficient = 2.0;
  const double charged = co_await ctx.call_activity<double>("ChargeCustomer", order, retry);
  co_await ctx.call_activity<std::string>("SendConfirmation", order);
  co_return OrderResult{order.orderId, "confirmed", charged, std::nullopt};
}
}  // namespace

void register_order_processing(Registry& registry) {
  registry.add_activity("ValidateOrder", validate_order);
  registry.add_activity("ChargeCustomer", charge_customer);
  registry.add_activity("SendConfirmation", send_confirmation);
  registry.add_orchestrator("OrderProcessing", order_processing);
}

}  // namespace durable::samples
