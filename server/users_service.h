// Copyright (c) Cairn authors.
//
// The Users service of the KurrentDB v1 protocol: user management over
// the users in the store (user_store.h). Create, Update, Delete, Enable,
// Disable and ResetPassword are for `$admins` only; Details of one user is
// for `$admins` and that user, of every user (empty login) for `$admins`;
// ChangePassword is for that user and `$admins`, and needs the current
// password either way. Others get AccessDenied, as KurrentDB answers. With
// authentication off (--insecure) every call is allowed.
//
// Every request field is checked before anything is written: a login is
// 1..128 bytes of UTF-8 without control characters or ':' (the Basic
// credentials' separator); a full name at most 1024 bytes of UTF-8; at
// most 64 groups of 1..128 bytes of UTF-8 without control characters; a
// password 1..1024 bytes. A bad field is INVALID_ARGUMENT naming it.
// Update changes the full name and groups only (the password field is
// ignored, as KurrentDB ignores it).
#ifndef CAIRN_SERVER_USERS_SERVICE_H_
#define CAIRN_SERVER_USERS_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "server/authenticator.h"
#include "server/password_hash.h"
#include "server/user_store.h"
#include "users.grpc.pb.h"

namespace cairn::server {

class UsersService final
    : public event_store::client::users::Users::CallbackService {
 public:
  // `authenticator` outlives the service. New passwords are hashed with
  // `cost`.
  UsersService(Store* store, Authenticator* authenticator,
               PasswordHashCost cost);

  grpc::ServerUnaryReactor* Create(
      grpc::CallbackServerContext* rpc,
      const event_store::client::users::CreateReq* request,
      event_store::client::users::CreateResp* response) override;
  grpc::ServerUnaryReactor* Update(
      grpc::CallbackServerContext* rpc,
      const event_store::client::users::UpdateReq* request,
      event_store::client::users::UpdateResp* response) override;
  grpc::ServerUnaryReactor* Delete(
      grpc::CallbackServerContext* rpc,
      const event_store::client::users::DeleteReq* request,
      event_store::client::users::DeleteResp* response) override;
  grpc::ServerUnaryReactor* Disable(
      grpc::CallbackServerContext* rpc,
      const event_store::client::users::DisableReq* request,
      event_store::client::users::DisableResp* response) override;
  grpc::ServerUnaryReactor* Enable(
      grpc::CallbackServerContext* rpc,
      const event_store::client::users::EnableReq* request,
      event_store::client::users::EnableResp* response) override;
  grpc::ServerWriteReactor<event_store::client::users::DetailsResp>* Details(
      grpc::CallbackServerContext* rpc,
      const event_store::client::users::DetailsReq* request) override;
  grpc::ServerUnaryReactor* ChangePassword(
      grpc::CallbackServerContext* rpc,
      const event_store::client::users::ChangePasswordReq* request,
      event_store::client::users::ChangePasswordResp* response) override;
  grpc::ServerUnaryReactor* ResetPassword(
      grpc::CallbackServerContext* rpc,
      const event_store::client::users::ResetPasswordReq* request,
      event_store::client::users::ResetPasswordResp* response) override;

 private:
  RpcError SetDisabled(grpc::CallbackServerContext* rpc,
                       const std::string& login, bool disabled);
  // A new hash of `password` into *out, in one of the authenticator's
  // hashing slots (or "Server Is Too Busy").
  RpcError Hash(std::string_view password, std::string* out);

  UserStore users_;
  Authenticator* authenticator_;
  const PasswordHashCost cost_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_USERS_SERVICE_H_
