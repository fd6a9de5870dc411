# syntax=docker/dockerfile:1
# a comment before the first instruction
FROM busybox AS base
RUN echo one \
    && echo two \
# a comment inside a continued instruction
    && echo three

ENV A=1 \
    B="two words"
COPY --from=base --chown=1000:1000 ["a b.txt", "/dest/"]
CMD ["sh", "-c", "echo hi"]
entrypoint echo lower-case keyword
HEALTHCHECK --interval=5s --retries=3 CMD wget -q localhost
