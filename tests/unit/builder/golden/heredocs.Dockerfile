FROM busybox
RUN <<EOF
echo one
# not a comment: part of the script
echo two
EOF
RUN cat <<-"END" > /x
	literal $HOME
	END
COPY <<a.txt <<b.txt /dir/
first
a.txt
second
b.txt
