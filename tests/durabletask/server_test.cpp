// The protocol server through a gRPC stub: the calls a worker or client
// makes, and the bad ones, each answered with a clear status.

#include "tests/durabletask/grpc_fixture.hpp"

namespace durable::durabletask {
namespace {

TEST_F(GrpcTest, Hello_Answers) {
  google::protobuf::Empty in, out;
  auto ctx = context();
  EXPECT_TRUE(stub_->Hello(ctx.get(), in, &out).ok());
}

}  // namespace
}  // namespace durable::durabletask
