module docker-cloud

go 1.19
