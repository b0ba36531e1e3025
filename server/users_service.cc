// Copyright (c) Cairn authors.
#include "server/users_service.h"

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cairn/text.h"

namespace cairn::server {

namespace users = event_store::client::users;

namespace {

constexpr size_t kMaxLoginBytes = 128;
constexpr size_t kMaxFullNameBytes = 1024;
constexpr size_t kMaxGroups = 64;
constexpr size_t kMaxGroupBytes = 128;
constexpr size_t kMaxPasswordBytes = 1024;

RpcError Invalid(std::string_view field, std::string_view why) {
  return BadRequest(std::string(field) + " " + std::string(why));
}

RpcError CheckLogin(std::string_view login) {
  if (login.empty()) return Invalid("login_name", "is required");
  if (login.size() > kMaxLoginBytes) {
    return Invalid("login_name", "is longer than 128 bytes");
  }
  if (!IsUtf8Text(login, /*controls=*/false) ||
      login.find(':') != std::string_view::npos) {
    return Invalid("login_name",
                   "must be UTF-8 without control characters or ':'");
  }
  return Ok();
}

RpcError CheckPassword(std::string_view password, std::string_view field) {
  if (password.empty()) return Invalid(field, "is required");
  if (password.size() > kMaxPasswordBytes) {
    return Invalid(field, "is longer than 1024 bytes");
  }
  return Ok();
}

RpcError CheckDetails(
    std::string_view full_name,
    const google::protobuf::RepeatedPtrField<std::string>& groups) {
  if (full_name.size() > kMaxFullNameBytes ||
      !IsUtf8Text(full_name, /*controls=*/true)) {
    return Invalid("full_name", "must be at most 1024 bytes of UTF-8");
  }
  if (static_cast<size_t>(groups.size()) > kMaxGroups) {
    return Invalid("groups", "are more than 64");
  }
  for (const std::string& group : groups) {
    if (group.empty() || group.size() > kMaxGroupBytes ||
        !IsUtf8Text(group, /*controls=*/false)) {
      return Invalid("groups",
                     "must each be 1..128 bytes of UTF-8 "
                     "without control characters");
    }
  }
  return Ok();
}

// The outcome of a user store call about `login`.
RpcError FromUserStatus(const Status& status, std::string_view login) {
  if (status.ok()) return Ok();
  // A user created, changed or deleted by a concurrent call.
  if (status.IsWrongExpectedVersion()) return UserConflict(login);
  return FromStoreStatus(status);
}

// Reads `login`, lets `change` edit its record (or refuse), and writes it
// as read.
RpcError Modify(UserStore* users, const std::string& login,
                const std::function<RpcError(UserRecord*)>& change) {
  Result<std::optional<StoredUser>> found = users->Find(login);
  if (!found.ok()) return FromStoreStatus(found.status());
  if (!found.value()) return UserNotFound(login);
  UserRecord record = found.value()->record;
  if (RpcError refused = change(&record); !IsOk(refused)) return refused;
  return FromUserStatus(users->Update(record, found.value()->revision), login);
}

// Streams precomputed DetailsResp messages, then OK.
class DetailsWriter final
    : public grpc::ServerWriteReactor<users::DetailsResp> {
 public:
  DetailsWriter(std::vector<users::DetailsResp> responses,
                const RpcError& outcome, grpc::CallbackServerContext* rpc)
      : responses_(std::move(responses)) {
    if (!IsOk(outcome)) {
      Finish(outcome.Apply(rpc));
      return;
    }
    WriteNext();
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status::CANCELLED);
      return;
    }
    WriteNext();
  }
  void OnDone() override { delete this; }

 private:
  void WriteNext() {
    if (next_ == responses_.size()) {
      Finish(grpc::Status::OK);
      return;
    }
    StartWrite(&responses_[next_++]);
  }

  std::vector<users::DetailsResp> responses_;
  size_t next_ = 0;
};

users::DetailsResp ToDetails(const StoredUser& user) {
  users::DetailsResp response;
  auto* details = response.mutable_user_details();
  details->set_login_name(user.record.login);
  details->set_full_name(user.record.full_name);
  for (const std::string& group : user.record.groups) {
    details->add_groups(group);
  }
  // .NET ticks: 100 ns.
  details->mutable_last_updated()->set_ticks_since_epoch(user.updated_us * 10);
  details->set_disabled(user.record.disabled);
  return response;
}

}  // namespace

UsersService::UsersService(Store* store, Authenticator* authenticator,
                           PasswordHashCost cost)
    : users_(store), authenticator_(authenticator), cost_(cost) {}

namespace {

// Authenticates the call; OK with `principal` set.
RpcError Who(Authenticator* authenticator, grpc::CallbackServerContext* rpc,
             Principal* principal) {
  return authenticator->Authenticate(*rpc, principal);
}

// Authenticates the call and requires `$admins`.
RpcError AdminOnly(Authenticator* authenticator,
                   grpc::CallbackServerContext* rpc) {
  Principal principal;
  if (RpcError who = Who(authenticator, rpc, &principal); !IsOk(who)) {
    return who;
  }
  return principal.IsAdmin() ? Ok() : AccessDenied();
}

}  // namespace

RpcError UsersService::Hash(std::string_view password, std::string* out) {
  return authenticator_->InHashSlot([&] {
    Result<std::string> hash = HashPassword(password, cost_);
    if (!hash.ok()) return FromStoreStatus(hash.status());
    *out = std::move(hash.value());
    return Ok();
  });
}

grpc::ServerUnaryReactor* UsersService::Create(grpc::CallbackServerContext* rpc,
                                               const users::CreateReq* request,
                                               users::CreateResp*) {
  const auto& options = request->options();
  RpcError outcome = AdminOnly(authenticator_, rpc);
  if (IsOk(outcome)) outcome = CheckLogin(options.login_name());
  if (IsOk(outcome)) outcome = CheckPassword(options.password(), "password");
  if (IsOk(outcome)) {
    outcome = CheckDetails(options.full_name(), options.groups());
  }
  if (!IsOk(outcome)) return FinishUnary(rpc, outcome);
  std::string hash;
  outcome = Hash(options.password(), &hash);
  if (!IsOk(outcome)) return FinishUnary(rpc, outcome);
  UserRecord record;
  record.login = options.login_name();
  record.full_name = options.full_name();
  record.groups.assign(options.groups().begin(), options.groups().end());
  record.password_hash = std::move(hash);
  return FinishUnary(rpc, FromUserStatus(users_.Create(record), record.login));
}

grpc::ServerUnaryReactor* UsersService::Update(grpc::CallbackServerContext* rpc,
                                               const users::UpdateReq* request,
                                               users::UpdateResp*) {
  const auto& options = request->options();
  RpcError outcome = AdminOnly(authenticator_, rpc);
  if (IsOk(outcome)) outcome = CheckLogin(options.login_name());
  if (IsOk(outcome)) {
    outcome = CheckDetails(options.full_name(), options.groups());
  }
  if (!IsOk(outcome)) return FinishUnary(rpc, outcome);
  return FinishUnary(
      rpc,
      Modify(&users_, options.login_name(), [&options](UserRecord* record) {
        record->full_name = options.full_name();
        record->groups.assign(options.groups().begin(), options.groups().end());
        return Ok();
      }));
}

grpc::ServerUnaryReactor* UsersService::Delete(grpc::CallbackServerContext* rpc,
                                               const users::DeleteReq* request,
                                               users::DeleteResp*) {
  const std::string& login = request->options().login_name();
  RpcError outcome = AdminOnly(authenticator_, rpc);
  if (IsOk(outcome)) outcome = CheckLogin(login);
  if (!IsOk(outcome)) return FinishUnary(rpc, outcome);
  Result<std::optional<StoredUser>> found = users_.Find(login);
  if (!found.ok()) return FinishUnary(rpc, FromStoreStatus(found.status()));
  if (!found.value()) return FinishUnary(rpc, UserNotFound(login));
  return FinishUnary(
      rpc,
      FromUserStatus(users_.Delete(login, found.value()->revision), login));
}

RpcError UsersService::SetDisabled(grpc::CallbackServerContext* rpc,
                                   const std::string& login, bool disabled) {
  RpcError outcome = AdminOnly(authenticator_, rpc);
  if (IsOk(outcome)) outcome = CheckLogin(login);
  if (!IsOk(outcome)) return outcome;
  return Modify(&users_, login, [disabled](UserRecord* record) {
    record->disabled = disabled;
    return Ok();
  });
}

grpc::ServerUnaryReactor* UsersService::Disable(
    grpc::CallbackServerContext* rpc, const users::DisableReq* request,
    users::DisableResp*) {
  return FinishUnary(rpc,
                     SetDisabled(rpc, request->options().login_name(), true));
}

grpc::ServerUnaryReactor* UsersService::Enable(grpc::CallbackServerContext* rpc,
                                               const users::EnableReq* request,
                                               users::EnableResp*) {
  return FinishUnary(rpc,
                     SetDisabled(rpc, request->options().login_name(), false));
}

grpc::ServerWriteReactor<users::DetailsResp>* UsersService::Details(
    grpc::CallbackServerContext* rpc, const users::DetailsReq* request) {
  const std::string& login = request->options().login_name();
  std::vector<users::DetailsResp> responses;
  Principal principal;
  RpcError outcome = Who(authenticator_, rpc, &principal);
  if (IsOk(outcome) && !principal.IsAdmin() &&
      (login.empty() || login != principal.login)) {
    outcome = AccessDenied();
  }
  if (IsOk(outcome) && !login.empty()) outcome = CheckLogin(login);
  std::vector<std::string> logins;
  if (IsOk(outcome) && login.empty()) {
    Result<std::vector<std::string>> listed = users_.Logins();
    if (listed.ok()) {
      logins = std::move(listed.value());
    } else {
      outcome = FromStoreStatus(listed.status());
    }
  } else {
    logins.push_back(login);
  }
  for (size_t i = 0; IsOk(outcome) && i < logins.size(); ++i) {
    Result<std::optional<StoredUser>> found = users_.Find(logins[i]);
    if (!found.ok()) {
      outcome = FromStoreStatus(found.status());
    } else if (found.value()) {
      responses.push_back(ToDetails(*found.value()));
    } else if (!login.empty()) {
      outcome = UserNotFound(login);
    }
  }
  return new DetailsWriter(std::move(responses), outcome, rpc);
}

grpc::ServerUnaryReactor* UsersService::ChangePassword(
    grpc::CallbackServerContext* rpc, const users::ChangePasswordReq* request,
    users::ChangePasswordResp*) {
  const auto& options = request->options();
  Principal principal;
  RpcError outcome = Who(authenticator_, rpc, &principal);
  if (IsOk(outcome) && !principal.IsAdmin() &&
      options.login_name() != principal.login) {
    outcome = AccessDenied();
  }
  if (IsOk(outcome)) outcome = CheckLogin(options.login_name());
  if (IsOk(outcome)) {
    outcome = CheckPassword(options.current_password(), "current_password");
  }
  if (IsOk(outcome)) {
    outcome = CheckPassword(options.new_password(), "new_password");
  }
  if (!IsOk(outcome)) return FinishUnary(rpc, outcome);
  // The current password first: a wrong one costs one verification, not
  // also a hash of the new one.
  Result<std::optional<StoredUser>> found = users_.Find(options.login_name());
  if (!found.ok()) return FinishUnary(rpc, FromStoreStatus(found.status()));
  if (!found.value()) {
    return FinishUnary(rpc, UserNotFound(options.login_name()));
  }
  const std::string verified_hash = found.value()->record.password_hash;
  outcome = authenticator_->InHashSlot([&] {
    Result<bool> current =
        VerifyPassword(verified_hash, options.current_password());
    if (!current.ok()) return FromStoreStatus(current.status());
    return current.value() ? Ok() : AccessDenied();
  });
  std::string hash;
  if (IsOk(outcome)) outcome = Hash(options.new_password(), &hash);
  if (!IsOk(outcome)) return FinishUnary(rpc, outcome);
  return FinishUnary(
      rpc, Modify(&users_, options.login_name(), [&](UserRecord* record) {
        // Changed since it was verified: the current password may not be
        // the one checked.
        if (record->password_hash != verified_hash) return AccessDenied();
        record->password_hash = hash;
        return Ok();
      }));
}

grpc::ServerUnaryReactor* UsersService::ResetPassword(
    grpc::CallbackServerContext* rpc, const users::ResetPasswordReq* request,
    users::ResetPasswordResp*) {
  const auto& options = request->options();
  RpcError outcome = AdminOnly(authenticator_, rpc);
  if (IsOk(outcome)) outcome = CheckLogin(options.login_name());
  if (IsOk(outcome)) {
    outcome = CheckPassword(options.new_password(), "new_password");
  }
  if (!IsOk(outcome)) return FinishUnary(rpc, outcome);
  std::string hash;
  outcome = Hash(options.new_password(), &hash);
  if (!IsOk(outcome)) return FinishUnary(rpc, outcome);
  return FinishUnary(
      rpc, Modify(&users_, options.login_name(), [&](UserRecord* record) {
        record->password_hash = hash;
        return Ok();
      }));
}

}  // namespace cairn::server
