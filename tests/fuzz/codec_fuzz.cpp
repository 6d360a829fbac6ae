// libFuzzer target for orchestration/codec: decode_events must never crash,
// must fail only with Errc::corruption, and whatever it accepts must survive
// encode -> decode unchanged. Not part of the CMake build (the test glob takes
// only *_test.cpp); docs/format.md, "Fuzzing", gives the command.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "orchestration/codec.hpp"

using durable::Errc;
using namespace durable::orchestration;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto batch = decode_events(bytes);
  if (!batch.is_ok()) {
    if (batch.status().code() != Errc::corruption) std::abort();
    return 0;
  }
  auto again = decode_events(encode_events(*batch));
  if (!again.is_ok() || *again != *batch) std::abort();
  // The same bytes as one bare event: same rules.
  auto event = decode_event(bytes);
  if (!event.is_ok() && event.status().code() != Errc::corruption) std::abort();
  if (event.is_ok()) {
    auto event_again = decode_event(encode_event(*event));
    if (!event_again.is_ok() || *event_again != *event) std::abort();
  }
  return 0;
}
