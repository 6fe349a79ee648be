// Metadata values: type names and the lenient accessors (a count may be stored as any integer type).
#include "inference/gguf/gguf.h"

#include <cmath>
#include <limits>

namespace penser::gguf {

const char* value_type_name(ValueType t) {
  switch (t) {
    case ValueType::UINT8: return "uint8";
    case ValueType::INT8: return "int8";
    case ValueType::UINT16: return "uint16";
    case ValueType::INT16: return "int16";
    case ValueType::UINT32: return "uint32";
    case ValueType::INT32: return "int32";
    case ValueType::FLOAT32: return "float32";
    case ValueType::BOOL: return "bool";
    case ValueType::STRING: return "string";
    case ValueType::ARRAY: return "array";
    case ValueType::UINT64: return "uint64";
    case ValueType::INT64: return "int64";
    case ValueType::FLOAT64: return "float64";
  }
  return "unknown";
}

// The variant's alternatives are listed in ValueType order, so the index is the type id.
static_assert(std::is_same_v<std::variant_alternative_t<size_t(ValueType::UINT8), Value::Storage>, uint8_t>);
static_assert(std::is_same_v<std::variant_alternative_t<size_t(ValueType::STRING), Value::Storage>, std::string>);
static_assert(std::is_same_v<std::variant_alternative_t<size_t(ValueType::ARRAY), Value::Storage>, Array>);
static_assert(std::is_same_v<std::variant_alternative_t<size_t(ValueType::FLOAT64), Value::Storage>, double>);

ValueType Value::type() const { return ValueType(uint32_t(v.index())); }

std::optional<uint64_t> Value::as_uint() const {
  return std::visit(
      [](const auto& x) -> std::optional<uint64_t> {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) {
          return x ? 1 : 0;
        } else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T>) {
          return uint64_t(x);
        } else if constexpr (std::is_integral_v<T>) {
          if (x < 0) return std::nullopt;
          return uint64_t(x);
        } else {
          return std::nullopt;
        }
      },
      v);
}

std::optional<int64_t> Value::as_int() const {
  return std::visit(
      [](const auto& x) -> std::optional<int64_t> {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) {
          return x ? 1 : 0;
        } else if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T>) {
          if (uint64_t(x) > uint64_t(std::numeric_limits<int64_t>::max())) return std::nullopt;
          return int64_t(x);
        } else if constexpr (std::is_integral_v<T>) {
          return int64_t(x);
        } else {
          return std::nullopt;
        }
      },
      v);
}

std::optional<double> Value::as_float() const {
  return std::visit(
      [](const auto& x) -> std::optional<double> {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) {
          return std::nullopt;
        } else if constexpr (std::is_arithmetic_v<T>) {
          return double(x);
        } else {
          return std::nullopt;
        }
      },
      v);
}

std::optional<bool> Value::as_bool() const {
  if (const bool* b = std::get_if<bool>(&v)) return *b;
  return std::nullopt;
}

const std::string* Value::as_string() const { return std::get_if<std::string>(&v); }
const Array* Value::as_array() const { return std::get_if<Array>(&v); }

uint64_t TensorInfo::n_elements() const {
  // The reader refuses shapes whose product overflows; a hand-made TensorInfo saturates.
  uint64_t n = 1;
  for (uint64_t d : shape) {
    if (d != 0 && n > std::numeric_limits<uint64_t>::max() / d) return std::numeric_limits<uint64_t>::max();
    n *= d;
  }
  return n;
}

}  // namespace penser::gguf
