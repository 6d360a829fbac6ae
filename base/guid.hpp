#pragma once
// GUIDs for the runtime: name-based ones (RFC 4122 version 5, SHA-1) for
// replay-safe ids that must come out the same on every replay, and random
// ones (version 4) for new instance ids.
//
// Why the URL namespace: v5 needs a namespace UUID; we use RFC 4122's URL
// namespace so any standard uuid5 (e.g. Python's uuid.uuid5(uuid.NAMESPACE_URL,
// name)) reproduces our values. Durable Functions' .NET NewGuid uses its own
// namespace (9e952958-5e33-4daf-827f-2fa12937b875); the overload taking a
// namespace can reproduce that if byte-compatibility is ever needed.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace durable {

/// A GUID as 16 bytes in RFC 4122 (network, big-endian) order.
using GuidBytes = std::array<std::uint8_t, 16>;

/// RFC 4122 appendix C: 6ba7b811-9dad-11d1-80b4-00c04fd430c8.
inline constexpr GuidBytes kGuidUrlNamespace{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
                                             0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};

/// The version-5 UUID of `name` (its bytes as given, normally UTF-8) in the
/// URL namespace, as 36 lower-case characters "xxxxxxxx-xxxx-5xxx-yxxx-xxxxxxxxxxxx".
/// Deterministic: the same name always gives the same GUID. Never fails; pure,
/// safe to call from any thread.
std::string name_based_guid(std::string_view name);

/// As above, in the namespace `name_space` (bytes in RFC 4122 order).
std::string name_based_guid(const GuidBytes& name_space, std::string_view name);

/// A new random version-4 UUID, as 32 lower-case hex digits without dashes
/// (the form of .NET's Guid.NewGuid().ToString("N")). Its 122 random bits
/// come from OpenSSL's CSPRNG (seeded from getrandom), so no one can predict
/// another client's ids from its own: request ids de-duplicate entity
/// signals. About a copy per call (bytes are drawn 1 KiB at a time per
/// thread); safe from any thread and across fork(). Throws
/// std::runtime_error only if OpenSSL cannot produce random bytes.
std::string random_guid();

}  // namespace durable
