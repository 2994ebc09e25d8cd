/* types.c — is_<type> predicates and type_name.
 *
 * As in OPA, is_string(5) is false (not undefined) and never an error. */
#include "rego/builtins/common_internal.h"

#define IS_FN(name, k)                                                                                       \
  static rego_bi_status bi_##name(rego_bctx *ctx, rv *const *args, rv **out) {                               \
    (void)ctx;                                                                                               \
    *out = rv_bool(args[0]->kind == (k));                                                                    \
    return REGO_BI_OK;                                                                                       \
  }
IS_FN(is_number, RV_NUMBER)
IS_FN(is_string, RV_STRING)
IS_FN(is_boolean, RV_BOOL)
IS_FN(is_array, RV_ARRAY)
IS_FN(is_set, RV_SET)
IS_FN(is_object, RV_OBJECT)
IS_FN(is_null, RV_NULL)

static rego_bi_status bi_type_name(rego_bctx *ctx, rv *const *args, rv **out) {
  *out = rv_cstring(ctx->arena, rv_type_name(args[0]));
  return REGO_BI_OK;
}

const rego_builtin_def rego_builtins_types[] = {
    {"is_number", 1, bi_is_number, 0}, {"is_string", 1, bi_is_string, 0}, {"is_boolean", 1, bi_is_boolean, 0},
    {"is_array", 1, bi_is_array, 0},   {"is_set", 1, bi_is_set, 0},       {"is_object", 1, bi_is_object, 0},
    {"is_null", 1, bi_is_null, 0},     {"type_name", 1, bi_type_name, 0}, {NULL, 0, NULL, 0},
};
