from services.revocation.app import main

main()
