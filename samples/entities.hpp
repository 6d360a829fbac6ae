#pragma once
// The sample entities, registered under fixed names:
//
//   Counter    function-based; state an integer; add (a number), reset, get
//   Cart       class-based; add {"sku","qty"}, remove {"sku"}, get (sku -> qty), clear
//   Inventory  class-based; stock per sku: restock, reserve (fails when short), get
//   Account    class-based; a balance: deposit, withdraw (fails when short), get
//
// and the orchestrations that use them (registered by register_samples):
//
//   Checkout   locks a Cart and an Inventory, checks and reserves the stock,
//              charges (ProcessPayment activity; restocks if it fails),
//              empties the cart
//   Transfer   locks two Accounts and moves money between them
//
// Inputs and outputs are JSON-compatible msgpack, as for the orchestrations.

#include <cstdint>
#include <map>
#include <string>

#include "entities/batch.hpp"

namespace durable::samples {

/// Registers every sample entity.
void register_entity_samples(entities::EntityRegistry& registry);

struct CartLine {
  std::string sku;
  int64_t qty = 0;
  MSGPACK_DEFINE_MAP(sku, qty)
};

struct Cart {
  std::map<std::string, int64_t> items;
  void add(CartLine line);
  void remove(CartLine line);
  std::map<std::string, int64_t> get() const { return items; }
  void clear() { items.clear(); }
  MSGPACK_DEFINE_MAP(items)
};

struct Inventory {
  std::map<std::string, int64_t> stock;
  void restock(CartLine line);
  /// Takes qty of sku out of stock; throws (and takes nothing) when short.
  void reserve(CartLine line);
  std::map<std::string, int64_t> get() const { return stock; }
  MSGPACK_DEFINE_MAP(stock)
};

struct Account {
  int64_t balance = 0;
  void deposit(int64_t amount);
  /// Throws (and takes nothing) when the balance is short.
  void withdraw(int64_t amount);
  int64_t get() const { return balance; }
  MSGPACK_DEFINE_MAP(balance)
};

// --- Checkout ------------------------------------------------------------------
struct CheckoutRequest {
  std::string cart;              // Cart key
  std::string inventory = "main";  // Inventory key
  std::string card = "4242";     // ProcessPayment declines "declined"
  MSGPACK_DEFINE_MAP(cart, inventory, card)
};

struct Receipt {
  std::string status;  // "paid", "empty", "out of stock", "payment failed"
  std::map<std::string, int64_t> items;
  std::string detail;  // the payment reference, or what went wrong
  MSGPACK_DEFINE_MAP(status, items, detail)
};

// --- Transfer ------------------------------------------------------------------
struct TransferRequest {
  std::string from;  // Account keys
  std::string to;
  int64_t amount = 0;
  MSGPACK_DEFINE_MAP(from, to, amount)
};

struct TransferResult {
  bool transferred = false;
  std::string reason;  // why not
  MSGPACK_DEFINE_MAP(transferred, reason)
};

}  // namespace durable::samples
