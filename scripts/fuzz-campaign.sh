#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fuzz campaign: longer than the 20 s per target of scripts/test.sh.
#   1. builds the libFuzzer targets (clang, ASan+UBSan) in build-fuzz,
#   2. runs each target for N seconds on a scratch copy of its committed corpus,
#   3. merges the new inputs back into the committed corpus directory (libFuzzer -merge=1
#      -use_counters=0: only inputs that reach a new edge, the smallest that does),
#   4. builds the same targets with clang source-based coverage in build-fuzz-cov, replays each
#      committed corpus once (-runs=0) and prints the line coverage of the parser code each
#      target is responsible for (PARSERS below), with a pass/fail against --min-coverage.
#
#   scripts/fuzz-campaign.sh [--seconds N] [--targets a,b] [--no-merge] [--coverage-only]
#                            [--min-coverage PCT] [--jobs J]
#     --seconds N       fuzzing time per target (default 60)
#     --targets a,b     only these targets (default: every *_fuzz target CMake knows)
#     --no-merge        fuzz, but leave the committed corpora unchanged
#     --coverage-only   no fuzzing build/run: only the coverage build and the table
#     --min-coverage P  line coverage every PARSERS row must reach (default 90)
#     --jobs J          build parallelism (default: nproc)
# Exit status: 0 when no target crashed and every row reaches --min-coverage; 1 otherwise.
# Crash / timeout / OOM reproducers are kept in build-fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export VERITEE_TESTDATA="${VERITEE_TESTDATA:-$root/../shared/testdata}"

# ---- what each target is responsible for ------------------------------------------------------
# One row per (target, parser source file). Third column: the parser functions of that file
# (an extended regular expression over function names, anchored at both ends, no spaces), or
# "*" for the whole file. Files that also hold writers,
# I/O or verification code that the target cannot reach list only their parser functions, so
# the figure says "is this parser's code run by the corpus". A file that moved is found again
# by its base name (see locate_source), so a move does not break the table; update the path
# here anyway. A target without a row is fuzzed and merged but has no figure.
PARSERS='
intel_quote_fuzz        src/evidence/intel_quote.c            *
intel_collateral_fuzz   src/endorsements/intel_collateral.c   skip_ws|skip_string|skip_value|vti_json_raw_member|trim_len|set_buf|body_identity|same_identity|same_bytes|set_signed|add_pcs_signed|add_crl_der|all_hex|add_crl_any|set_chain|is_pck_cert|add_chain|jstr|add_signed_field|add_bundle|vti_intel_collateral_add_piece|vti_intel_collateral_from_endorsements|vti_intel_status_parse|j_hex|j_int|j_time|level_common|isvsvn_levels|module_parse|tcb_level_parse|vti_intel_tcb_info_parse|vti_intel_qe_identity_parse
intel_collateral_fuzz   src/crypto/pem.c                      find|vti_pem_has|vti_pem_decode
cbor_fuzz               src/cert/cbor.c                       read_arg|vti_cbor_head|vti_cbor_skip|vti_cbor_check|typed|vti_cbor_uint|vti_cbor_bstr|vti_cbor_tstr|vti_cbor_array|vti_cbor_map|vti_cbor_tag
cbor_fuzz               src/cert/ratls_parse.c                vti_ratls_ext_parse|key_is|parse_pubkey_hash|vti_ratls_claims_parse
ratls_cert_fuzz         src/cert/ratls_parse.c                vti_ratls_cert_parse|vti_evidence_peek
snp_report_fuzz         src/evidence/snp_report.c             vti_snp_tcb_split|vti_snp_report_plausible|read_sig_component|vti_snp_report_parse|vti_snp_product_from_cpuid
snp_cert_table_fuzz     src/endorsements/amd_certs.c          vti_amd_blobs_add|der_one_sequence|find_str|vti_amd_blobs_add_content|vti_amd_cert_table_parse
qgs_resp_fuzz           src/attesters/tdx.c                   vti_qgs_parse_resp
broker_request_fuzz     src/broker/proto.c                    seg_char|vtb_path_check|vtb_path_normalize|seg_match|vtb_path_match|depth_ok|vtb_json_parse|vtb_json_bytes|vtb_json_b64|str_field|b64_fixed|wrapped_from_json|vtb_wrapped_parse|path_field|parse_framed|parse_eaa_blob|parse_eaa|vtb_request_parse
kbs_request_fuzz        src/kbs/kbs.c                         member|tee_supported|tee_known|auth_tee|put_session|new_session|handle_auth|claims_json|evidence_bytes|verify_with_certs|check_report|verify_evidence|appraise_vector|policy_id|attest_session|init_data_ok|attest_parse_body|attest_check_nonce|device_names|attest_additional|attest_bind|attest_init_data|annotated_evidence|attest_issue_token|attest_finish|handle_attest|segment_ok|find_token|resource_path|resource_token|resource_authorise|resource_fetch|resource_seal|handle_resource|vtk_handle
kbs_request_fuzz        src/kbs_client/jose.c                        jcs_string|utf16_units|key_cmp|jcs_value|vtk_jcs|vtk_b64url_member|p256_from_xy|rsa_from_ne|str_is|vtk_jwk_public|concat_kdf|ecdh|aes_kw|rsa_oaep|vtk_jwe_decrypt|split3|decode_part|vtk_jws_peek|vtk_jws_verify
kbs_request_fuzz        src/kbs/ear.c                         vtk_ear_verify
kbs_request_fuzz        src/kbs/snp_serde.c                   *
kbs_initdata_fuzz       src/kbs/kbs_initdata.c                is_ws|is_bare|peek|skip_ws|quoted|key|alg_named|alg_value|line|vtk_initdata_alg
kbs_cookie_fuzz         src/kbs_client/http_client.c          token_char|cookie_octet|cookie_pair|vtk_cookie_take|vtk_cookie_header
tpm_evidence_fuzz       src/evidence/tpm_evidence.c           b64_field|pcrs_field|parse_obj|vti_tpm_evidence_parse|has|vti_tpm_evidence_is
tpms_attest_fuzz        src/evidence/tpm.c                    vt_tpm_hash_size|tpm2b|pcr_selection|vt_tpms_attest_parse
tpmt_signature_fuzz     src/evidence/tpm.c                    vt_tpm_hash_size|tpm2b|vt_tpmt_signature_parse
tpm2b_public_fuzz       src/evidence/tpm.c                    vt_tpm_hash_size|tpm2b|sym_def|scheme_read|rsa_parms_unique|curve_coord|ecc_parms_unique|vt_tpmt_public_read|vt_tpmt_public_parse|vt_tpm2b_public_parse
hcl_report_fuzz         src/evidence/hcl.c                    *
az_evidence_fuzz        src/verifiers/az_evidence.c           *
eventlog_fuzz           src/evidence/eventlog.c               *
eventlog_fuzz           src/evidence/eventlog_replay.c        vti_evlog_replay|setup_banks|replay_event|extend|md_of|vti_evlog_bank
eventlog_fuzz           src/evidence/eventlog_data.c          *
eventlog_fuzz           src/evidence/eventlog_claims.c        *
spdm_fuzz               src/evidence/spdm.c                   *
spdm_fuzz               src/evidence/dice_tcb.c               *
rim_fuzz                src/endorsements/nvidia_rim.c         *
rim_fuzz                src/endorsements/nvidia_rim_swid.c    *
eventlog_fuzz           src/evidence/eventlog_aael.c          *
aael_fuzz               src/evidence/eventlog_aael.c          *
'

seconds=60 targets="" merge=1 fuzz=1 min_cov=90
jobs=$(nproc 2>/dev/null || echo 2)
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --targets) targets=$2; shift 2 ;;
    --no-merge) merge=0; shift ;;
    --coverage-only) fuzz=0; shift ;;
    --min-coverage) min_cov=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "fuzz-campaign: unknown argument $1" >&2; exit 2 ;;
  esac
done

# ---- tools: clang and the llvm-profdata / llvm-cov of the same major version -------------------
CC=${CC:-clang}
command -v "$CC" >/dev/null || { echo "fuzz-campaign: needs clang" >&2; exit 2; }
llvm_major=$("$CC" -dumpversion | cut -d. -f1)
pick_tool() { # pick_tool NAME: NAME-<clang major> if present, else NAME of the same version
  if command -v "$1-$llvm_major" >/dev/null; then echo "$1-$llvm_major"; return; fi
  if command -v "$1" >/dev/null && "$1" --version | grep -q "version $llvm_major\."; then
    echo "$1"; return
  fi
  echo "fuzz-campaign: no $1 matching clang $llvm_major (apt-get install llvm-$llvm_major)" >&2
  exit 2
}
PROFDATA=$(pick_tool llvm-profdata)
LLVMCOV=$(pick_tool llvm-cov)

# ---- helpers ------------------------------------------------------------------------------------
all_targets() { # every libFuzzer target CMake knows in build dir $1
  cmake --build "$1" --target help | sed -n 's/^\.\.\. \([A-Za-z0-9_]*_fuzz\)$/\1/p' | sort
}

corpus_dir() { # the committed corpus of target $1 (tests/fuzz/corpus first, like scripts/test.sh)
  local d="tests/fuzz/corpus/$1"
  [ -d "$d" ] || d=$(ls -d src/*/fuzz/corpus/"$1" 2>/dev/null | head -1)
  [ -n "$d" ] || d="tests/fuzz/corpus/$1" # a new target: its corpus starts here
  echo "$d"
}

locate_source() { # path of a PARSERS file; a moved file is found again by its base name
  if [ -f "$1" ]; then echo "$1"; return; fi
  local hits
  hits=$(git ls-files "*/$(basename "$1")" | grep -v '^tests/' || true)
  if [ "$(echo "$hits" | grep -c .)" = 1 ]; then
    echo "fuzz-campaign: $1 moved to $hits (update PARSERS)" >&2
    echo "$hits"
  fi
}

configure() { # configure DIR EXTRA_CMAKE_ARGS...
  local dir=$1; shift
  cmake -S . -B "$dir" -DCMAKE_C_COMPILER="$CC" -DVT_FUZZ=ON -DVT_TESTS=ON "$@" >/dev/null
}

build_targets() { # build_targets DIR: the selected targets (all of them if --targets is empty)
  local dir=$1
  if [ -z "$targets" ]; then
    targets=$(all_targets "$dir" | paste -sd, -)
  fi
  echo "== build $dir: $targets"
  cmake --build "$dir" -j"$jobs" --target $(echo "$targets" | tr , ' ')
}

fuzz_one() { # fuzz_one NAME: fuzz on a scratch copy, then merge the new inputs back
  local name=$1 bin="build-fuzz/fuzz/$1" seed work before rc=0
  seed=$(corpus_dir "$name")
  work=$(mktemp -d)
  mkdir -p "$work/corpus" build-fuzz/artifacts
  [ -d "$seed" ] && cp -r "$seed"/. "$work/corpus"/
  before=$(ls "$work/corpus" | wc -l)
  "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=30 -print_final_stats=1 \
    -artifact_prefix="build-fuzz/artifacts/$name-" "$work/corpus" >"build-fuzz/$name.log" 2>&1 || rc=$?
  local execs
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "build-fuzz/$name.log" | tail -1)
  if [ "$rc" != 0 ]; then
    echo "fuzz $name: FAILED (exit $rc), log build-fuzz/$name.log, artifacts build-fuzz/artifacts/"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)' "build-fuzz/$name.log" | head -5
    rm -rf "$work"; return 1
  fi
  local added=0
  if [ "$merge" = 1 ]; then
    mkdir -p "$seed"
    local n0; n0=$(ls "$seed" | wc -l)
    # -use_counters=0: keep an input only for a new edge, not for a new hit count of a known one
    "$bin" -merge=1 -use_counters=0 -rss_limit_mb=2048 -timeout=30 "$seed" "$work/corpus" \
      >"build-fuzz/$name.merge.log" 2>&1
    added=$(( $(ls "$seed" | wc -l) - n0 ))
  fi
  echo "fuzz $name: ok, ${execs:-?} execs, corpus $before -> $(ls "$work/corpus" | wc -l), merged back $added into $seed"
  rm -rf "$work"
}

measure_one() { # measure_one NAME: profile of the committed corpus; prints one row per PARSERS line
  local name=$1 bin="build-fuzz-cov/fuzz/$1" seed prof="build-fuzz-cov/prof"
  seed=$(corpus_dir "$name")
  mkdir -p "$prof"
  rm -f "$prof/$name".*
  [ -d "$seed" ] || { echo "coverage $name: no corpus" >&2; return 0; }
  LLVM_PROFILE_FILE="$prof/$name.%p.profraw" "$bin" -runs=0 -rss_limit_mb=2048 "$seed" \
    >"$prof/$name.log" 2>&1 || echo "coverage $name: replay exited non-zero (see $prof/$name.log)" >&2
  "$PROFDATA" merge -sparse "$prof/$name".*.profraw -o "$prof/$name.profdata"
  echo "$PARSERS" | awk -v t="$name" '$1 == t { print $2, $3 }' | while read -r file fns; do
    local src
    src=$(locate_source "$file")
    if [ -z "$src" ]; then printf '%s\t%s\tmissing\t-\t-\n' "$name" "$file"; continue; fi
    # per-function rows (static functions are shown as "file.c:name"): sum the lines of the
    # functions in scope; the whole-file figure is printed alongside
    "$LLVMCOV" report -show-functions "$bin" -instr-profile="$prof/$name.profdata" "$root/$src" \
      2>/dev/null | awk -v t="$name" -v f="$src" -v re="^($fns)\$" '
        NF >= 7 && $2 ~ /^[0-9]+$/ && $1 != "TOTAL" {
          fn = $1; sub(/^[^:]*:/, "", fn)
          all += $5; allmiss += $6
          if (re == "^(*)$" || fn ~ re) { n += $5; miss += $6 }
        }
        END {
          pct = n ? 100 * (n - miss) / n : 0
          printf "%s\t%s\t%d/%d\t%.1f%%\t%d/%d\n", t, f, n - miss, n, pct, all - allmiss, all
        }'
  done
}

print_table() { # rows on stdin: target file covered/lines pct whole-file-covered/lines
  local fails=0 t f cl pct whole verdict
  printf '\n%-22s %-36s %-10s %7s  %-10s %s\n' target file lines cover whole-file verdict
  while IFS=$'\t' read -r t f cl pct whole; do
    verdict=pass
    if [ "$cl" = missing ] || awk -v p="${pct%\%}" -v m="$min_cov" 'BEGIN { exit !(p + 0 < m) }'; then
      verdict="FAIL (< $min_cov%)"; fails=$((fails + 1))
    fi
    printf '%-22s %-36s %-10s %7s  %-10s %s\n' "$t" "$f" "$cl" "$pct" "$whole" "$verdict"
  done
  echo "coverage: $fails row(s) below $min_cov% (lines: of the functions in PARSERS; whole-file: all of it)"
  [ "$fails" = 0 ]
}

# ---- 1-3: fuzz and merge --------------------------------------------------------------------------
status=0
if [ "$fuzz" = 1 ]; then
  configure build-fuzz -DCMAKE_BUILD_TYPE=Debug -DVT_SANITIZE=ON
  build_targets build-fuzz
  for t in $(echo "$targets" | tr , ' '); do
    fuzz_one "$t" || status=1
  done
fi

# ---- 4: coverage build and table -------------------------------------------------------------------
covflags="-fprofile-instr-generate -fcoverage-mapping"
configure build-fuzz-cov -DCMAKE_BUILD_TYPE=Debug -DVT_SANITIZE=OFF \
  -DCMAKE_C_FLAGS="$covflags" -DCMAKE_EXE_LINKER_FLAGS="$covflags" \
  -DCMAKE_SHARED_LINKER_FLAGS="$covflags"
build_targets build-fuzz-cov
rows=$(for t in $(echo "$targets" | tr , ' '); do measure_one "$t"; done)
echo "$rows" | print_table || status=1
echo "(profiles: build-fuzz-cov/prof/<target>.profdata; details: $LLVMCOV show build-fuzz-cov/fuzz/<target> -instr-profile=... <file>)"
exit "$status"
