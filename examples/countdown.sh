# A small script with live output on both streams.
for i in 3 2 1; do
    echo "t-minus $i"
    sleep 0.3
done
echo "a note on stderr" >&2
echo "liftoff"
