#!/usr/bin/env bash
# Makes FastSwift's bundled table, Sources/Tabular/Resources/tabular_sample/titanic.csv (run once;
# the file is committed): the Titanic's 1,309 passengers from the R package carData
# (TitanicSurvival; GPL-2 | GPL-3), without the passengers' names.
#
#     apt-get install -y r-base-core r-cran-cardata && Tests/Fixtures/make_tabular_sample.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
Rscript -e '
library(carData)
d <- TitanicSurvival
out <- data.frame(survived = d$survived, sex = d$sex, age = d$age, passengerClass = d$passengerClass)
write.csv(out, "Sources/Tabular/Resources/tabular_sample/titanic.csv", row.names = FALSE, na = "")
'
echo "wrote Sources/Tabular/Resources/tabular_sample/titanic.csv"
