# escape=`
FROM busybox
RUN echo C:\path `
    next
WORKDIR C:\work
