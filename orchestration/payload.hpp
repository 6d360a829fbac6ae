#pragma once
// User values as payloads: JSON-compatible msgpack bytes. Structs should use
// MSGPACK_DEFINE_MAP (maps with string keys, so the HTTP layer can turn them
// into JSON objects and back); strings pack as str, never bin.
//
// An empty payload means "no value" and decodes like msgpack nil (so
// std::optional<T> becomes nullopt); std::monostate packs as no value and
// accepts anything.

#include <msgpack.hpp>

#include <stdexcept>
#include <string>
#include <string_view>
#include <typeinfo>
#include <variant>

#include "orchestration/history.hpp"

// std::monostate ("no value") packs as nil and accepts any value.
namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
  namespace adaptor {
  template <>
  struct pack<std::monostate> {
    template <class Stream>
    packer<Stream>& operator()(packer<Stream>& o, const std::monostate&) const {
      o.pack_nil();
      return o;
    }
  };
  template <>
  struct convert<std::monostate> {
    const msgpack::object& operator()(const msgpack::object& o, std::monostate&) const { return o; }
  };
  }  // namespace adaptor
}
}  // namespace msgpack

namespace durable::orchestration {

/// Thrown when a payload does not decode as the requested type. Inside an
/// orchestrator it behaves like any user exception (fails the instance unless
/// caught).
class PayloadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <class T>
Payload to_payload(const T& value) {
  if constexpr (std::is_same_v<T, std::monostate>) {
    return {};
  } else {
    // Packs straight into the string: msgpack::sbuffer would allocate 8 KiB
    // up front for every payload, which dominates a large fan-out.
    struct Writer {
      Payload& out;
      void write(const char* data, size_t size) { out.append(data, size); }
    };
    Payload out;
    Writer writer{out};
    msgpack::pack(writer, value);
    return out;
  }
}

/// Decodes `bytes` as a T. Throws PayloadError naming the type on mismatch.
template <class T>
T from_payload(std::string_view bytes) {
  if constexpr (std::is_same_v<T, std::monostate>) {
    return {};
  } else {
    static constexpr char kNil[] = "\xc0";
    if (bytes.empty()) bytes = std::string_view(kNil, 1);
    try {
      msgpack::object_handle oh = msgpack::unpack(bytes.data(), bytes.size());
      return oh.get().as<T>();
    } catch (const std::exception& e) {
      throw PayloadError(std::string("payload does not decode as ") + typeid(T).name() + ": " +
                         e.what());
    }
  }
}

}  // namespace durable::orchestration
