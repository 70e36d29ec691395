#!/usr/bin/env bash
# Writes the two real tables the tabular comparison uses (README, "Tables and recommendations"),
# each with a fixed 20% validation column `is_valid`, into DIR (default /tmp/tables):
#   arrests.csv   R's carData::Arrests (5,226 arrests for marijuana possession in Toronto; GPL-2 | GPL-3)
#   diamonds.csv  R's ggplot2::diamonds (53,940 diamonds; MIT), log_price in place of price
# They are not bundled: the benchmarks read them from DIR.
#
#     apt-get install -y r-base-core r-cran-cardata r-cran-ggplot2 && Benchmarks/make_comparison_tables.sh
set -euo pipefail
dir="${1:-/tmp/tables}"
mkdir -p "$dir"
cd "$dir"
Rscript -e '
library(carData); library(ggplot2)
set.seed(1)
a <- Arrests
a$is_valid <- runif(nrow(a)) < 0.2
write.csv(a, "arrests.csv", row.names = FALSE)
d <- as.data.frame(diamonds)
d$log_price <- log(d$price); d$price <- NULL
d$is_valid <- runif(nrow(d)) < 0.2
write.csv(d, "diamonds.csv", row.names = FALSE)
'
echo "wrote $dir/arrests.csv and $dir/diamonds.csv"
