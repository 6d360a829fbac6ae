#include "client/patient_connect.hpp"

#include <thread>

namespace durable::client {

Result<std::unique_ptr<Client>> connect_patiently(const ClientOptions& options, std::chrono::milliseconds patience) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  for (;;) {
    auto client = Client::connect(options);
    const bool unreachable = !client && (client.status().code() == Errc::unavailable ||
                                         client.status().code() == Errc::deadline_exceeded);
    if (!unreachable || std::chrono::steady_clock::now() >= deadline) return client;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace durable::client
