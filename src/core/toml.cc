// toml.cc — the only C++ in trustee-c: toml++ parses, we build jansson JSON
// and a path → line map (see toml.h). No exception crosses into C: toml++
// is built with TOML_EXCEPTIONS=0 and allocation failures are caught here.
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#define TOML_ENABLE_FORMATTERS 1
#include <toml++/toml.h>

#include <cmath>
#include <cstring>
#include <new>
#include <sstream>
#include <string>

// core/error.h has no extern "C" guard of its own.
extern "C" {
#include "core/error.h"
}
#include "core/toml.h"

namespace {

struct Builder {
  json_t *lines;  // may be nullptr
  std::string err;  // first error
  int err_line = 0;
  int err_col = 0;

  void note(const std::string &path, const toml::source_region &src) {
    if (!lines || src.begin.line == 0) return;
    json_object_set_new(lines, path.c_str(), json_integer((json_int_t)src.begin.line));
  }

  bool fail(const std::string &msg, const toml::source_region &src) {
    if (err.empty()) {
      err = msg;
      err_line = (int)src.begin.line;
      err_col = (int)src.begin.column;
    }
    return false;
  }

  template <typename T> static std::string str(const T &v) {
    std::ostringstream os;
    os << v;
    return os.str();
  }

  // Converts one node; *out is a new reference on success.
  bool convert(const toml::node &n, const std::string &path, json_t **out) {
    *out = nullptr;
    switch (n.type()) {
    case toml::node_type::table: {
      const toml::table &t = *n.as_table();
      json_t *obj = json_object();
      if (!obj) return fail("out of memory", n.source());
      for (auto &&[k, v] : t) {
        std::string kp = path.empty() ? std::string(k.str()) : path + "." + std::string(k.str());
        note(kp, k.source());
        json_t *child;
        if (!convert(v, kp, &child)) {
          json_decref(obj);
          return false;
        }
        std::string ks(k.str());
        if (json_object_set_new_nocheck(obj, ks.c_str(), child) != 0) {
          json_decref(obj);
          return fail("key `" + kp + "` is not valid UTF-8 or too long", k.source());
        }
      }
      *out = obj;
      return true;
    }
    case toml::node_type::array: {
      const toml::array &a = *n.as_array();
      json_t *arr = json_array();
      if (!arr) return fail("out of memory", n.source());
      size_t i = 0;
      for (const toml::node &e : a) {
        std::string ep = path + "[" + std::to_string(i++) + "]";
        note(ep, e.source());
        json_t *child;
        if (!convert(e, ep, &child)) {
          json_decref(arr);
          return false;
        }
        json_array_append_new(arr, child);
      }
      *out = arr;
      return true;
    }
    case toml::node_type::string: {
      const std::string &s = n.as_string()->get();
      if (s.find('\0') != std::string::npos)
        return fail("value of `" + path + "` contains a NUL character", n.source());
      *out = json_stringn(s.data(), s.size());
      if (!*out) return fail("value of `" + path + "` is not valid UTF-8", n.source());
      return true;
    }
    case toml::node_type::integer:
      *out = json_integer((json_int_t)n.as_integer()->get());
      break;
    case toml::node_type::floating_point: {
      double d = n.as_floating_point()->get();
      if (!std::isfinite(d)) return fail("value of `" + path + "` is inf or nan, which JSON cannot represent", n.source());
      *out = json_real(d);
      break;
    }
    case toml::node_type::boolean:
      *out = n.as_boolean()->get() ? json_true() : json_false();
      break;
    case toml::node_type::date:
      *out = json_string(str(n.as_date()->get()).c_str());
      break;
    case toml::node_type::time:
      *out = json_string(str(n.as_time()->get()).c_str());
      break;
    case toml::node_type::date_time:
      *out = json_string(str(n.as_date_time()->get()).c_str());
      break;
    default:
      return fail("unsupported TOML node at `" + path + "`", n.source());
    }
    if (!*out) return fail("out of memory", n.source());
    return true;
  }
};

tr_err *make_err(const char *file_name, int line, int col, const std::string &msg) {
  const char *f = file_name ? file_name : "toml";
  if (line > 0) return tr_err_new(TR_E_INVALID, "%s:%d:%d: %s", f, line, col, msg.c_str());
  return tr_err_new(TR_E_INVALID, "%s: %s", f, msg.c_str());
}

}  // namespace

extern "C" tr_err *tr_toml_parse(const char *text, size_t len, const char *file_name, json_t **out, json_t **lines) {
  *out = nullptr;
  if (lines) *lines = nullptr;
  try {
    std::string_view doc(text ? text : "", text ? len : 0);
    toml::parse_result res = toml::parse(doc);
    if (!res) {
      const toml::parse_error &pe = res.error();
      return make_err(file_name, (int)pe.source().begin.line, (int)pe.source().begin.column,
                      std::string(pe.description()));
    }
    Builder b;
    b.lines = nullptr;
    if (lines) {
      b.lines = json_object();
      if (!b.lines) return tr_err_new(TR_E_NOMEM, "out of memory");
    }
    json_t *root;
    if (!b.convert(res.table(), std::string(), &root)) {
      json_decref(b.lines);
      return make_err(file_name, b.err_line, b.err_col, b.err);
    }
    *out = root;
    if (lines) *lines = b.lines;
    return nullptr;
  } catch (const std::bad_alloc &) {
    return tr_err_new(TR_E_NOMEM, "%s: out of memory parsing TOML", file_name ? file_name : "toml");
  } catch (...) {
    return tr_err_new(TR_E_INTERNAL, "%s: unexpected failure parsing TOML", file_name ? file_name : "toml");
  }
}

extern "C" int tr_toml_line(const json_t *lines, const char *path) {
  if (!lines || !path) return 0;
  json_t *v = json_object_get(lines, path);
  return json_is_integer(v) ? (int)json_integer_value(v) : 0;
}
