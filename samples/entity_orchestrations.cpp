// Orchestrations over the sample entities: critical sections in practice.
#include "samples/entities.hpp"
#include "samples/samples.hpp"

namespace durable::samples {
namespace {
using namespace durable::orchestration;
using Items = std::map<std::string, int64_t>;

struct Payment {
  std::string order;
  std::string card;
  int64_t units = 0;
  MSGPACK_DEFINE_MAP(order, card, units)
};

std::string process_payment(ActivityContext&, Payment p) {
  if (p.card == "declined") throw std::runtime_error("card declined");
  return "payment " + p.order + ": " + std::to_string(p.units) + " unit(s) charged to card " + p.card;
}

Task<Receipt> checkout(OrchestrationContext& ctx, CheckoutRequest request) {
  const EntityId cart("Cart", request.cart);
  const EntityId inventory("Inventory", request.inventory);
  // Nobody changes the cart or the stock until the section ends.
  auto section = co_await ctx.lock_entities(cart, inventory);
  const auto items = co_await ctx.call_entity<Items>(cart, "get");
  if (items.empty()) co_return Receipt{"empty", {}, "the cart is empty"};
  const auto stock = co_await ctx.call_entity<Items>(inventory, "get");
  for (const auto& [sku, qty] : items) {
    const auto have = stock.count(sku) ? stock.at(sku) : 0;
    if (have < qty) {
      co_return Receipt{"out of stock", items,
                        "only " + std::to_string(have) + " of '" + sku + "', " + std::to_string(qty) + " wanted"};
    }
  }
  int64_t units = 0;
  // (Arguments are named first: g++ 12 mishandles temporaries made inside
  // a co_await expression.)
  for (const auto& [sku, qty] : items) {
    const CartLine line{sku, qty};
    co_await ctx.call_entity<void>(inventory, "reserve", line);
    units += qty;
  }
  std::string reference;
  try {
    const Payment payment{ctx.instance_id(), request.card, units};
    reference = co_await ctx.call_activity<std::string>("ProcessPayment", payment);
  } catch (const TaskFailedException& e) {
    reference = e.details().message;
  }
  if (reference == "card declined") {
    // Compensate: the stock goes back; the cart stays as it was.
    for (const auto& [sku, qty] : items) {
      const CartLine line{sku, qty};
      co_await ctx.call_entity<void>(inventory, "restock", line);
    }
    co_return Receipt{"payment failed", items, reference};
  }
  co_await ctx.call_entity<void>(cart, "clear");
  co_return Receipt{"paid", items, reference};
}

Task<TransferResult> transfer(OrchestrationContext& ctx, TransferRequest request) {
  if (request.amount <= 0) co_return TransferResult{false, "the amount must be positive"};
  if (request.from == request.to) co_return TransferResult{false, "from and to are the same account"};
  const EntityId from("Account", request.from);
  const EntityId to("Account", request.to);
  auto section = co_await ctx.lock_entities(from, to);
  const auto balance = co_await ctx.call_entity<int64_t>(from, "get");
  if (balance < request.amount) {
    co_return TransferResult{false, "balance " + std::to_string(balance) + " is short of " +
                                        std::to_string(request.amount)};
  }
  co_await ctx.call_entity<void>(from, "withdraw", request.amount);
  co_await ctx.call_entity<void>(to, "deposit", request.amount);
  co_return TransferResult{true, {}};
}

}  // namespace

void register_entity_orchestrations(Registry& registry) {
  registry.add_activity("ProcessPayment", process_payment);
  registry.add_orchestrator("Checkout", checkout);
  registry.add_orchestrator("Transfer", transfer);
}

}  // namespace durable::samples
