#pragma once
// What the `durable` tool prints for people: an instance, a list of
// instances, a history, a list of entities, as aligned text.

#include <ostream>

#include "http/json.hpp"

namespace durable::cli {

using http::json;

/// The id, name and status line, then times, input, output.
void print_instance(std::ostream& out, const json& status);
/// One line per instance: INSTANCE NAME STATUS CREATED UPDATED.
void print_instances(std::ostream& out, const json& list);
/// One line per event: TIME EVENT NAME DETAIL.
void print_history(std::ostream& out, const json& events);
/// One line per entity of GET /entities: ENTITY (name@key) UPDATED STATE
/// (compact JSON, shortened) LOCKED BY.
void print_entities(std::ostream& out, const json& list);

}  // namespace durable::cli
