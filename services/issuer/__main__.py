from services.issuer.app import main

main()
