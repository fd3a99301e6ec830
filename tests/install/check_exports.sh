#!/usr/bin/env bash
# check_exports.sh LIBFACTO_SO LIBFACTO_FETCH_SO LIBFACTO_A LIBFACTO_FETCH_A FACTO_H
# What the libraries show the world:
#  - libfacto.so exports facto_* symbols only, and every FACTO_API function of
#    facto.h but facto_dataset_fetch and facto_serve_* (libfacto_serve, static); its SONAME is libfacto.so.MAJOR, MAJOR
#    being FACTO_VERSION_MAJOR of facto.h;
#  - libfacto_fetch.so exports facto_dataset_fetch and nothing else;
#  - libfacto (.so and .a) uses no libcurl, libzip or libcrypto (they are
#    libfacto_fetch's).
set -euo pipefail
[ $# -eq 5 ] || { echo "usage: check_exports.sh LIBFACTO_SO LIBFACTO_FETCH_SO LIBFACTO_A LIBFACTO_FETCH_A FACTO_H" >&2; exit 2; }
so=$1 fetch_so=$2 a=$3 fetch_a=$4 header=$5
fail() { echo "FAIL: $*" >&2; exit 1; }
for t in nm readelf; do command -v $t >/dev/null || fail "$t is not installed (binutils)"; done
for f in "$so" "$fetch_so" "$a" "$fetch_a" "$header"; do [ -f "$f" ] || fail "no file $f"; done

exports() { nm -D --defined-only "$1" | awk 'NF >= 3 { print $3 }' | sed 's/@.*//' | LC_ALL=C sort -u; }

others=$(exports "$so" | grep -v '^facto_' || true)
[ -z "$others" ] || fail "$so exports symbols not named facto_*: $(echo $others)"
public=$(grep -o '^FACTO_API[^(]*(' "$header" | sed 's/($//; s/.*[ *]//' | grep -vx facto_dataset_fetch | grep -v '^facto_serve_' | LC_ALL=C sort -u)
[ -n "$public" ] || fail "found no FACTO_API function in $header"
missing=$(LC_ALL=C comm -23 <(echo "$public") <(exports "$so"))
[ -z "$missing" ] || fail "$so does not export: $(echo $missing)"
major=$(sed -n 's/^#define FACTO_VERSION_MAJOR \([0-9]*\).*/\1/p' "$header")
soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libfacto.so.$major" ] || fail "$so has SONAME '$soname', want libfacto.so.$major"

fetch_exports=$(exports "$fetch_so")
[ "$fetch_exports" = facto_dataset_fetch ] || fail "$fetch_so exports $(echo $fetch_exports), want facto_dataset_fetch only"
soname=$(readelf -d "$fetch_so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libfacto_fetch.so.$major" ] || fail "$fetch_so has SONAME '$soname', want libfacto_fetch.so.$major"

needed=$(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
bad=$(grep -E 'curl|zip|crypto|ssl' <<<"$needed" || true)
[ -z "$bad" ] || fail "$so needs $(echo $bad); downloads belong in libfacto_fetch"
bad=$(nm --undefined-only "$a" 2>/dev/null | awk '{ print $NF }' | grep -E '^(curl_|zip_|EVP_|OPENSSL_)' | LC_ALL=C sort -u || true)
[ -z "$bad" ] || fail "$a calls $(echo $bad); downloads belong in libfacto_fetch"
needed=$(readelf -d "$fetch_so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
for lib in curl zip crypto; do
    grep -q "$lib" <<<"$needed" || fail "$fetch_so does not link lib$lib (needs: $(echo $needed))"
done
nm --defined-only "$fetch_a" | grep -q ' T facto_dataset_fetch$' || fail "$fetch_a does not define facto_dataset_fetch"

echo "ok: libfacto.so exports $(exports "$so" | wc -l) facto_* symbols (SONAME libfacto.so.$major) and needs no curl, zip or crypto;"
echo "    libfacto_fetch.so exports facto_dataset_fetch only"
