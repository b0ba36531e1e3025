// Copyright (c) Cairn authors.
#include "server/append_call.h"

#include <limits>
#include <utility>

#include "server/proposed_event.h"

namespace cairn::server {

using event_store::client::streams::AppendReq;
using event_store::client::streams::AppendResp;

AppendCall::AppendCall(const CallContext& context,
                       grpc::CallbackServerContext* rpc, AppendResp* response)
    : context_(context),
      rpc_(rpc),
      response_(response),
      ticket_(context, *rpc) {
  if (!ticket_.held()) {
    Fail(ticket_.refusal());
    return;
  }
  StartRead(&request_);
}

void AppendCall::OnReadDone(bool ok) {
  if (!ok) {
    // The client half-closed, or cancelled: then nothing is appended.
    if (rpc_->IsCancelled()) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "Append cancelled"));
      return;
    }
    if (!have_options_) {
      Fail(BadRequest("Append needs an options message first"));
      return;
    }
    Submit();
    return;
  }
  if (std::optional<RpcError> error = Take()) {
    Fail(*error);
    return;
  }
  StartRead(&request_);
}

std::optional<RpcError> AppendCall::Take() {
  if (!have_options_) {
    if (request_.content_case() != AppendReq::kOptions) {
      return BadRequest("Append's first message must be options");
    }
    const AppendReq::Options& options = request_.options();
    stream_ = options.stream_identifier().stream_name();
    std::string why;
    if (!WritableStreamName(stream_, &why)) return BadRequest(why);
    if (RpcError denied = ticket_.Check(stream_, StreamRight::kWrite);
        denied.code != grpc::StatusCode::OK) {
      return denied;
    }
    std::optional<ExpectedVersion> expected = ExpectedFromOptions(options);
    if (!expected) {
      return BadRequest("Append options need an expected revision");
    }
    expected_ = *expected;
    have_options_ = true;
    return std::nullopt;
  }
  if (request_.content_case() != AppendReq::kProposedMessage) {
    return BadRequest("Append takes options once, then proposed messages");
  }
  EventData event;
  if (std::optional<RpcError> error =
          ToEventData(request_.proposed_message(),
                      context_.limits.max_event_size, &event)) {
    return error;
  }
  bytes_ += BufferedSize(event);
  if (bytes_ > context_.limits.max_append_size) {
    return MaximumAppendSizeExceeded(context_.limits.max_append_size);
  }
  events_.push_back(std::move(event));
  return std::nullopt;
}

void AppendCall::Submit() {
  RunAppend(
      context_.store, stream_, expected_, std::move(events_),
      [this](Result<AppendOutcome> outcome) { Complete(std::move(outcome)); });
}

void AppendCall::Complete(Result<AppendOutcome> outcome) {
  if (!outcome.ok()) {
    const Status& status = outcome.status();
    if (status.IsWrongExpectedVersion()) {
      FillWrongExpectedVersion(expected_,
                               status.wrong_expected_version()->actual_revision,
                               response_->mutable_wrong_expected_version());
      Finish(grpc::Status::OK);
      return;
    }
    Fail(FromStoreStatus(status, stream_));
    return;
  }
  FillAppendSuccess(outcome.value(), response_->mutable_success());
  Finish(grpc::Status::OK);
}

void FillWrongExpectedVersion(ExpectedVersion expected,
                              std::optional<uint64_t> actual,
                              AppendResp::WrongExpectedVersion* out) {
  if (actual) {
    out->set_current_revision(*actual);
    out->set_current_revision_20_6_0(*actual);
  } else {
    out->mutable_current_no_stream();
    out->mutable_no_stream_20_6_0();
  }
  switch (expected.kind()) {
    case ExpectedVersion::Kind::kAny:
      out->mutable_expected_any();
      out->mutable_any_20_6_0();
      break;
    case ExpectedVersion::Kind::kNoStream:
      out->mutable_expected_no_stream();
      out->set_expected_revision_20_6_0(std::numeric_limits<uint64_t>::max());
      break;
    case ExpectedVersion::Kind::kStreamExists:
      out->mutable_expected_stream_exists();
      out->mutable_stream_exists_20_6_0();
      break;
    case ExpectedVersion::Kind::kExact:
      out->set_expected_revision(expected.revision());
      out->set_expected_revision_20_6_0(expected.revision());
      break;
  }
}

}  // namespace cairn::server
