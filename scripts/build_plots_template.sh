#!/usr/bin/env bash
# Build .dvc/plots/offline.html: DVC's plots page with vega, vega-lite and vega-embed inlined
# (the versions DVC's renderer asks a CDN for), so `dvc plots show` renders offline.
# Needs npm once; the result is committed and .dvc/config points `plots.html_template` at it.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent vega@5.20.2 vega-lite@5.2.0 vega-embed@6.18.2 >/dev/null && for f in *.tgz; do tar xzf "$f" --one-top-level; done)
out=.dvc/plots/offline.html
{
  echo '<!DOCTYPE html>'
  echo '<html><head><meta charset="utf-8">{refresh_tag}<title>DVC plots (offline)</title>'
  echo '<!-- vega 5.20.2, vega-lite 5.2.0, vega-embed 6.18.2: BSD-3-Clause, (c) the University of Washington Interactive Data Lab -->'
  for lib in vega-5.20.2/package/build/vega.min.js vega-lite-5.2.0/package/build/vega-lite.min.js \
             vega-embed-6.18.2/package/build/vega-embed.min.js; do
    printf '<script>\n'; cat "$tmp/${lib%%/*}/$(echo "$lib" | cut -d/ -f2-)"; printf '\n</script>\n'
  done
  echo '<style>body{font-family:sans-serif} table{border-spacing:15px}</style>'
  echo '</head><body>'
  echo '{plot_divs}'
  echo '</body></html>'
} > "$out"
echo "wrote $out ($(du -h "$out" | cut -f1))"
