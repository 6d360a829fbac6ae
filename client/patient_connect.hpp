#pragma once
// Connecting a Client for a server that starts while its Redis may be
// restarting (an embedded redis-server's supervisor brings it back).

#include <chrono>
#include <memory>

#include "client/client.hpp"

namespace durable::client {

/// Client::connect, tried again every 100 ms while Redis is unreachable
/// (unavailable, deadline_exceeded), for up to `patience`. Other errors, and
/// the last one after `patience`, at once.
Result<std::unique_ptr<Client>> connect_patiently(const ClientOptions& options, std::chrono::milliseconds patience);

}  // namespace durable::client
