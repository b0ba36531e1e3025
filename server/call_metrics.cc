// Copyright (c) Cairn authors.
#include "server/call_metrics.h"

namespace cairn::server {

namespace {

using grpc::experimental::InterceptionHookPoints;

class CountingInterceptor final : public grpc::experimental::Interceptor {
 public:
  CountingInterceptor(CallMetrics* metrics, std::string_view path)
      : metrics_(metrics), path_(path) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      metrics_->Record(path_, methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  CallMetrics* const metrics_;
  const std::string_view path_;  // ServerRpcInfo's, which outlives us
};

class CountingFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CountingFactory(CallMetrics* metrics) : metrics_(metrics) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    const char* method = info->method();
    return new CountingInterceptor(metrics_, method == nullptr ? "" : method);
  }

 private:
  CallMetrics* const metrics_;
};

}  // namespace

void CallMetrics::Record(std::string_view path, int code) {
  size_t row = kMethods.size();  // other
  for (size_t i = 0; i < kMethods.size(); ++i) {
    if (kMethods[i].path == path) {
      row = i;
      break;
    }
  }
  // A code outside the known range counts as UNKNOWN (2), as gRPC maps it.
  if (code < 0 || code >= kCodes) code = 2;
  counts_[row * kCodes + static_cast<size_t>(code)].fetch_add(
      1, std::memory_order_relaxed);
}

std::vector<CallMetrics::Count> CallMetrics::Counts() const {
  std::vector<Count> out;
  for (size_t row = 0; row < kRows; ++row) {
    for (int code = 0; code < kCodes; ++code) {
      const uint64_t calls =
          counts_[row * kCodes + static_cast<size_t>(code)].load(
              std::memory_order_relaxed);
      if (calls == 0) continue;
      out.push_back({row < kMethods.size() ? kMethods[row].label : kOtherMethod,
                     code, calls});
    }
  }
  return out;
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
CallMetrics::InterceptorFactory(CallMetrics* metrics) {
  return std::make_unique<CountingFactory>(metrics);
}

}  // namespace cairn::server
