# CheeseCave Portal container image.
#   docker build -t cheesecave-portal .
#   docker run -p 8080:8080 -v cheesecave-data:/data cheesecave-portal
# The build copies the top-level appsettings.json and wwwroot/ into the publish output (they are linked into
# src/CheeseCave.Portal), so the app runs from /app with /app as its content root.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# global.json is left out on purpose: it pins the SDK for developers; here the image tag is the pin.
COPY Directory.Build.props Directory.Packages.props ./
COPY appsettings.json ./
COPY wwwroot/ wwwroot/
COPY src/ src/
RUN dotnet restore src/CheeseCave.Portal/CheeseCave.Portal.csproj
RUN dotnet publish src/CheeseCave.Portal/CheeseCave.Portal.csproj \
        --configuration Release --no-restore --output /app/publish -p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app/publish ./

# Portal data lives in a volume owned by the image's non-root "app" user (create it before VOLUME).
RUN mkdir -p /data && chown "$APP_UID":"$APP_UID" /data
VOLUME /data

# In a container, loopback-only makes no sense: listen on all interfaces, port 8080.
# "Urls" is set too because appsettings.json's "Urls" (http://127.0.0.1:5080) outranks ASPNETCORE_URLS;
# an unprefixed environment variable outranks appsettings.json.
ENV ASPNETCORE_URLS=http://+:8080 \
    Urls=http://+:8080 \
    CheeseCave__DataDirectory=/data
EXPOSE 8080

USER $APP_UID
# The runtime image has no curl: the portal's own "healthcheck" verb asks /health/ready (docs/operations.md).
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["dotnet", "CheeseCave.Portal.dll", "healthcheck", "http://127.0.0.1:8080/health/ready"]
ENTRYPOINT ["dotnet", "CheeseCave.Portal.dll"]
