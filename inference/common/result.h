// Result<T>: a value or an Error with a message a user can act on.
// The engine returns these for everything that can fail on input or environment (files, GGUF, devices);
// no exception crosses the inference API. Modelled on std::expected (C++23), which GCC 12 / clang 14 lack.
#pragma once

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace penser {

struct Error {
  std::string message;
};

template <typename... Args>
Error make_error(fmt::format_string<Args...> f, Args&&... args) {
  return Error{fmt::format(f, std::forward<Args>(args)...)};
}

[[noreturn]] inline void assert_fail(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "penser: internal error: assertion '%s' failed at %s:%d\n", expr, file, line);
  std::abort();
}

}  // namespace penser

// Programmer errors: stays on in release builds and names file and line.
#define PENSER_ASSERT(expr) ((expr) ? (void)0 : ::penser::assert_fail(#expr, __FILE__, __LINE__))

namespace penser {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { PENSER_ASSERT(has_value()); return std::get<0>(v_); }
  const T& value() const& { PENSER_ASSERT(has_value()); return std::get<0>(v_); }
  T&& value() && { PENSER_ASSERT(has_value()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { PENSER_ASSERT(!has_value()); return std::get<1>(v_); }
  Error&& take_error() { PENSER_ASSERT(!has_value()); return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { PENSER_ASSERT(!ok_); return error_; }
  Error&& take_error() { PENSER_ASSERT(!ok_); return std::move(error_); }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace penser

#define PENSER_CONCAT_INNER(a, b) a##b
#define PENSER_CONCAT(a, b) PENSER_CONCAT_INNER(a, b)

// PENSER_TRY(expr): evaluates a Result<...> expression and returns its error from the enclosing function.
#define PENSER_TRY(expr)                                              \
  do {                                                                \
    auto&& penser_try_r_ = (expr);                                    \
    if (!penser_try_r_) return ::penser::Error(penser_try_r_.take_error()); \
  } while (0)

// PENSER_ASSIGN_OR_RETURN(decl, expr): `decl = *expr` or return the error.
#define PENSER_ASSIGN_OR_RETURN(decl, expr) \
  PENSER_ASSIGN_OR_RETURN_IMPL(PENSER_CONCAT(penser_r_, __LINE__), decl, expr)
#define PENSER_ASSIGN_OR_RETURN_IMPL(tmp, decl, expr) \
  auto tmp = (expr);                                  \
  if (!tmp) return ::penser::Error(tmp.take_error()); \
  decl = std::move(tmp).value()
