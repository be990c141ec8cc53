# Build stage: pure Go (the SQLite driver needs no cgo).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/user-registry ./cmd/user-registry

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
COPY --from=build /out/user-registry /user-registry
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/user-registry"]
CMD ["serve", "--addr", "0.0.0.0:8080"]
