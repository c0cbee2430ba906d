# Shared by the soaks (sourced, not run): what running the soak pipeline's three steps gives, and the shape of a
# folder's outputs to compare with it. The pipeline: gen writes data/<V><i>.txt for i in 1..$parts (and, in the
# kill soak, an empty data/empty/), train hashes them into model/ with a link, report concatenates model/.

# What running the steps gives for V, computed without the SDK.
expected() { # $1 = V, $2 = folder to fill, $3 = "with-empty" when gen also makes data/empty/
  mkdir -p "$2/data" "$2/model"
  [ "${3:-}" = with-empty ] && mkdir -p "$2/data/empty"
  for i in $(seq 1 "$parts"); do echo "$1-$i" > "$2/data/$1$i.txt"; done
  cat "$2"/data/*.txt | sha256sum > "$2/model/weights.txt"
  cp "$2/data/${1}1.txt" "$2/model/first.txt"
  ln -sf weights.txt "$2/model/latest"
  cat "$2/model/weights.txt" "$2/model/first.txt" > "$2/report.txt"
}

# Every path of the outputs, links as "path -> target", files with their content hash.
shape() { # $1 = folder
  (cd "$1" && find data model report.txt \( -type l -printf '%p -> %l\n' \) -o \( -type d -printf '%p/\n' \) -o \( -type f -print \) | sort |
    while read -r line; do if [ -f "$line" ] && [ ! -L "$line" ]; then echo "$line $(sha256sum < "$line" | cut -c1-16)"; else echo "$line"; fi; done)
}
