#include "samples/entities.hpp"

#include <stdexcept>

namespace durable::samples {
namespace {

using entities::ClassEntity;
using entities::EntityContext;

void positive(int64_t n, const char* what) {
  if (n <= 0) throw std::invalid_argument(std::string(what) + " must be positive, got " + std::to_string(n));
}

void counter(EntityContext& ctx) {
  const std::string& op = ctx.operation();
  if (iequals(op, "add")) {
    int64_t amount = 0;
    try {
      amount = ctx.input<int64_t>();
    } catch (const orchestration::PayloadError&) {
      throw std::invalid_argument("counter 'add' needs a whole number as its input");
    }
    int64_t sum = 0;
    if (__builtin_add_overflow(ctx.state<int64_t>(), amount, &sum)) {
      throw std::overflow_error("counter 'add': " + std::to_string(ctx.state<int64_t>()) + " + " +
                                std::to_string(amount) + " is past the range of a 64-bit integer");
    }
    ctx.set_state(sum);
  } else if (iequals(op, "reset")) {
    ctx.set_state(int64_t{0});
  } else if (iequals(op, "get")) {
    ctx.return_value(ctx.state<int64_t>());
  } else {
    throw entities::UnknownOperation("entity 'counter' has no operation '" + op + "' (add, reset, get)");
  }
}

}  // namespace

void Cart::add(CartLine line) {
  positive(line.qty, "qty");
  items[line.sku] += line.qty;
}

void Cart::remove(CartLine line) { items.erase(line.sku); }

void Inventory::restock(CartLine line) {
  positive(line.qty, "qty");
  stock[line.sku] += line.qty;
}

void Inventory::reserve(CartLine line) {
  positive(line.qty, "qty");
  const int64_t have = stock.count(line.sku) ? stock[line.sku] : 0;
  if (have < line.qty) {
    throw std::runtime_error("only " + std::to_string(have) + " of '" + line.sku + "' in stock, " +
                             std::to_string(line.qty) + " wanted");
  }
  stock[line.sku] = have - line.qty;
}

void Account::deposit(int64_t amount) {
  positive(amount, "amount");
  balance += amount;
}

void Account::withdraw(int64_t amount) {
  positive(amount, "amount");
  if (balance < amount) {
    throw std::runtime_error("balance " + std::to_string(balance) + " is short of " + std::to_string(amount));
  }
  balance -= amount;
}

void register_entity_samples(entities::EntityRegistry& registry) {
  registry.add("Counter", counter);
  registry.add("Cart", ClassEntity<Cart>()
                           .operation("add", &Cart::add)
                           .operation("remove", &Cart::remove)
                           .operation("get", &Cart::get)
                           .operation("clear", &Cart::clear));
  registry.add("Inventory", ClassEntity<Inventory>()
                                .operation("restock", &Inventory::restock)
                                .operation("reserve", &Inventory::reserve)
                                .operation("get", &Inventory::get));
  registry.add("Account", ClassEntity<Account>()
                              .operation("deposit", &Account::deposit)
                              .operation("withdraw", &Account::withdraw)
                              .operation("get", &Account::get));
}

}  // namespace durable::samples
