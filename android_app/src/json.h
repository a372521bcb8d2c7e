// A small JSON value (null, bool, integer, number, string, array, ordered object)
// and its serializer. Objects keep insertion order so the output reads like the
// format in docs/formats.md. Non-finite numbers are written as null.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace splitbench {

class Json {
 public:
  enum class Type { kNull, kBool, kInteger, kUnsigned, kNumber, kString, kArray, kObject };

  Json() = default;  // null
  Json(std::nullptr_t) {}
  Json(bool value) : type_(Type::kBool), bool_(value) {}
  Json(int value) : type_(Type::kInteger), integer_(value) {}
  Json(long value) : type_(Type::kInteger), integer_(value) {}
  Json(long long value) : type_(Type::kInteger), integer_(value) {}
  Json(unsigned value) : type_(Type::kInteger), integer_(value) {}
  Json(unsigned long value) : type_(Type::kUnsigned), unsigned_(value) {}
  Json(unsigned long long value) : type_(Type::kUnsigned), unsigned_(value) {}
  Json(double value) : type_(Type::kNumber), number_(value) {}
  Json(const char* value) : type_(Type::kString), string_(value) {}
  Json(std::string value) : type_(Type::kString), string_(std::move(value)) {}

  static Json array() {
    Json j;
    j.type_ = Type::kArray;
    return j;
  }
  static Json object() {
    Json j;
    j.type_ = Type::kObject;
    return j;
  }
  template <typename T>
  static Json array_of(const std::vector<T>& values) {
    Json j = array();
    for (const T& v : values) j.push(Json(v));
    return j;
  }

  // Appends to an array.
  Json& push(Json value);
  // Sets a key of an object (replacing an existing one) and returns *this.
  Json& set(const std::string& key, Json value);

  std::string dump() const;

 private:
  void dump_to(std::string& out) const;

  Type type_ = Type::kNull;
  bool bool_ = false;
  int64_t integer_ = 0;
  uint64_t unsigned_ = 0;
  double number_ = 0.0;
  std::string string_;
  std::vector<Json> items_;
  std::vector<std::pair<std::string, Json>> members_;
};

// Shortest decimal text that reads back as the same double.
std::string format_double(double value);

}  // namespace splitbench
