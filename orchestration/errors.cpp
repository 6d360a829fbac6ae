#include "orchestration/errors.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <typeinfo>

namespace durable::orchestration {
namespace {

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> name(
      abi::__cxa_demangle(mangled, nullptr, nullptr, &status), &std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(mangled);
}

std::string current_exception_type() {
  const std::type_info* type = abi::__cxa_current_exception_type();
  return type ? demangle(type->name()) : "unknown";
}

}  // namespace

FailureDetails failure_from_exception(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const ReportedFailure& e) {
    return e.details();
  } catch (const TaskFailedException& e) {
    const FailureDetails& inner = e.details();
    return {"TaskFailedException", e.what(),
            inner.error_type + ": " + inner.message +
                (inner.stack_trace.empty() ? "" : "\n" + inner.stack_trace)};
  } catch (const std::exception& e) {
    return {current_exception_type(), e.what(), {}};
  } catch (...) {
    return {current_exception_type(), "an exception not derived from std::exception", {}};
  }
}

}  // namespace durable::orchestration
