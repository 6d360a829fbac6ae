#pragma once
// Runs every sample orchestration through a Client against a live node and
// prints what each returned: the README's main command.

#include "client/client.hpp"

namespace durable::node {

/// Runs the samples one after another (the approval sample gets its event
/// raised); prints each output to stdout. Returns false if any did not end
/// as expected.
bool run_samples(client::Client& client);

}  // namespace durable::node
