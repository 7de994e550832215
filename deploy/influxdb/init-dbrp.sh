#!/bin/sh
# InfluxDB 2.x: map the v1 database/retention policies the dashboards query (InfluxQL) onto
# the bucket. One bucket holds everything; per-kind retention needs one bucket per policy.
set -e
BUCKET_ID=$(influx bucket list --name hazardwatch --hide-headers | cut -f1)
for rp in chem_30d coal_93d vehicle_184d events_1096d; do
  influx v1 dbrp create --db hazardwatch --rp "$rp" --bucket-id "$BUCKET_ID" \
    $( [ "$rp" = events_1096d ] && echo --default )
done
